import AgentplaneCore
import Hummingbird

/// Requires a valid API key on `/api/v1/*` (except the public metrics alias) and puts the principal in
/// the request scope.
struct AuthenticationMiddleware<Context: RequestContext>: RouterMiddleware {
    let authenticator: APIKeyAuthenticator
    static var publicPaths: Set<String> { ["/api/v1/metrics"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let path = request.uri.path
        guard path.hasPrefix("/api/"), !Self.publicPaths.contains(path) else {
            return try await next(request, context)
        }
        var scope = RequestScope.current
        scope.principal = try await authenticator.authenticate(authorization: request.headers[.authorization])
        return try await RequestScope.$current.withValue(scope) { try await next(request, context) }
    }
}
