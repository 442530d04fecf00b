import AgentplaneCore
import Foundation
import Synchronization

/// Per-request context, set by the middleware chain and read once per handler (a TaskLocal, as the
/// generated handlers see only their typed input).
package struct RequestScope: Sendable {
    /// `X-Request-ID`, echoed or generated.
    package var requestID: String
    /// Correlates logs and problem documents; the W3C trace id when `traceparent` is sent.
    package var traceID: String
    /// The authenticated caller, for `/api/v1/*` routes.
    package var principal: Principal?
    /// The client's IP address, for the audit log.
    package var clientAddress: String?
    /// The principal once authenticated, seen also by the middlewares outside the authentication (the access log
    /// line is written there); shared by the scope's copies.
    package let authenticated: AuthenticatedPrincipal

    /// Creates a scope.
    package init(
        requestID: String, traceID: String, principal: Principal?, clientAddress: String?,
        authenticated: AuthenticatedPrincipal = AuthenticatedPrincipal()
    ) {
        self.requestID = requestID
        self.traceID = traceID
        self.principal = principal
        self.clientAddress = clientAddress
        self.authenticated = authenticated
    }

    /// The scope of the request being handled.
    @TaskLocal package static var current = RequestScope(
        requestID: "", traceID: "", principal: nil, clientAddress: nil, authenticated: .unused)

    /// The authenticated principal; throws 401 when there is none (a route the auth middleware skipped).
    package static func requirePrincipal() throws -> Principal {
        guard let principal = current.principal else {
            throw AgentplaneError(.unauthenticated, "This route needs `Authorization: Bearer <api key>`.")
        }
        return principal
    }
}

/// The principal a request authenticated as, written once by the authentication middleware.
package final class AuthenticatedPrincipal: Sendable {
    private let value = Mutex<Principal?>(nil)

    /// An empty slot.
    package init() {}

    /// The slot of the scope outside any request (never written).
    static let unused = AuthenticatedPrincipal()

    /// The principal, once authenticated.
    package var principal: Principal? { value.withLock { $0 } }

    /// Records the principal.
    func record(_ principal: Principal) { value.withLock { $0 = principal } }
}
