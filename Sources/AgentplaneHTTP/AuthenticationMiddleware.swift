import AgentplaneCore
import HTTPTypes
import Hummingbird

/// Requires a valid API key or access token on `/api/v1/*` (except the public metrics alias) and puts the principal in
/// the request scope.
struct AuthenticationMiddleware<Context: RequestContext>: RouterMiddleware {
    let authenticator: BearerAuthenticator
    static var publicPaths: Set<String> { ["/api/v1/metrics", "/api/v1/auth/token"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let path = request.uri.path
        guard path.hasPrefix("/api/"), !Self.publicPaths.contains(path) else {
            return try await next(request, context)
        }
        var scope = RequestScope.current
        scope.principal = try await authenticator.authenticate(
            authorization: request.headers[.authorization],
            tenantHeader: request.headers[.tenantID] ?? request.headers[.orgID]
        )
        return try await RequestScope.$current.withValue(scope) { try await next(request, context) }
    }
}

extension HTTPField.Name {
    static let orgID = Self("x-org-id")!
}
