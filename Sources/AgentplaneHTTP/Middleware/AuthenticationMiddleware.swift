import AgentplaneCore
import HTTPTypes
import Hummingbird

/// Requires a valid API key or access token on `/api/v1/*` (except the public metrics alias) and on the gateway's
/// `/gateway/*`, and puts the principal in the request scope.
struct AuthenticationMiddleware<Context: RequestContext>: RouterMiddleware {
    let authenticator: BearerAuthenticator
    static var publicPaths: Set<String> { ["/api/v1/metrics", "/api/v1/auth/token"] }
    /// Where a stream ticket (`?ticket=`) stands in for `Authorization` (browsers cannot set it there).
    static var ticketPaths: Set<String> { ["/api/v1/ws", "/api/v1/events/stream"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let path = request.uri.path
        guard path.hasPrefix("/api/") || GatewayPath.matches(path), !Self.publicPaths.contains(path) else {
            return try await next(request, context)
        }
        let request = try Self.naming(tenantOf: request)
        var scope = RequestScope.current
        if request.headers[.authorization] == nil, request.method == .get, Self.ticketPaths.contains(path),
            let ticket = request.uri.queryParameters.get("ticket")
        {
            scope.principal = try await authenticator.authenticate(ticket: ticket)
        } else {
            scope.principal = try await authenticator.authenticate(
                authorization: request.headers[.authorization],
                tenantHeader: request.headers[.tenantID]
            )
        }
        if let principal = scope.principal { scope.authenticated.record(principal) }
        return try await RequestScope.$current.withValue(scope) { try await next(request, context) }
    }

    /// Seed 002's `x-org-id` is another name for `X-Tenant-ID`: sent alone, it is copied into `X-Tenant-ID`,
    /// so that every credential and every handler reads one header. Both naming different tenants is a 400.
    static func naming(tenantOf request: Request) throws -> Request {
        guard let org = request.headers[.orgID] else { return request }
        if let tenant = request.headers[.tenantID] {
            guard tenant == org else {
                throw AgentplaneError(
                    .badRequest,
                    "X-Tenant-ID and x-org-id name different tenants; send one of them.",
                    fieldErrors: [FieldError(pointer: "x-org-id", message: "differs from X-Tenant-ID")]
                )
            }
            return request
        }
        var head = request.head
        head.headerFields[.tenantID] = org
        return Request(head: head, body: request.body)
    }
}

extension HTTPField.Name {
    static let orgID = Self("x-org-id")!
}
