import AgentplaneCore
import Foundation

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

    /// The scope of the request being handled.
    @TaskLocal package static var current = RequestScope(requestID: "", traceID: "", principal: nil, clientAddress: nil)

    /// The authenticated principal; throws 401 when there is none (a route the auth middleware skipped).
    package static func requirePrincipal() throws -> Principal {
        guard let principal = current.principal else {
            throw AgentplaneError(.unauthenticated, "This route needs `Authorization: Bearer <api key>`.")
        }
        return principal
    }
}
