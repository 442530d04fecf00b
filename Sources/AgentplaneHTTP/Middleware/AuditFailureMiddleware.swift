import AgentplaneCore
import AgentplaneStore
import HTTPTypes
import OpenAPIRuntime

/// Records every refused or failed mutation in the audit log, whatever refused it: the access
/// policy (403), validation (4xx) or the store. Successful mutations are audited by their store
/// operation, in the same transaction as the change.
struct AuditFailureMiddleware: ServerMiddleware {
    let store: any Store

    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard request.method != .get, request.method != .head, operationID != "createToken",
            let principal = RequestScope.current.principal
        else { return try await next(request, body, metadata) }
        do {
            return try await next(request, body, metadata)
        } catch {
            let scope = RequestScope.current
            let clientError = ErrorMapping.clientError(for: error).error
            let tenant =
                (try? APIHandler.tenant(request.headerFields[.tenantID])).flatMap {
                    try? principal.actingTenant(named: $0)
                }
                ?? principal.tenantID
            let segments = (request.path ?? "").split(separator: "?").first?.split(separator: "/") ?? []
            let entry = AuditEntry(
                tenantID: tenant,
                principalID: principal.subject,
                keyPrefix: principal.keyPrefix,
                operation: operationID,
                resourceType: Self.resourceType(segments: segments, parameters: metadata.pathParameters),
                resourceID: metadata.pathParameters.values.sorted().last.map(String.init),
                requestID: scope.requestID,
                clientAddress: scope.clientAddress,
                outcome: .failure,
                status: clientError.code.status,
                details: .object(["code": .string(clientError.code.rawValue)])
            )
            do {
                try await store.auditLog.append(entry)
            } catch {
                // The refusal stands; the lost audit row is an operator problem, said in the log.
                throw AuditWriteFailed(cause: error, original: clientError)
            }
            throw error
        }
    }

    /// The collection a path names: its last segment that is not a parameter value.
    static func resourceType(segments: [Substring], parameters: [String: Substring]) -> String {
        let values = Set(parameters.values)
        return segments.last(where: { !values.contains($0) }).map(String.init) ?? "unknown"
    }
}

/// The audit log could not record a refused mutation: answered as the original refusal, logged as
/// an internal error.
struct AuditWriteFailed: Error, CustomStringConvertible {
    let cause: any Error
    let original: AgentplaneError
    var description: String { "audit write failed (\(cause)); original: \(original)" }
}
