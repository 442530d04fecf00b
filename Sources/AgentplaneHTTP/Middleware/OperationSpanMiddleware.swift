import AgentplaneStore
import HTTPTypes
import OpenAPIRuntime
import Tracing

/// One span per API operation (named by its `operationId`, e.g. `runTaskNow`), around the handler: the use case
/// it calls and the mapping of its input and output. A child of the request's server span; nothing when the
/// request is not traced. An error names its problem code (`error.type`); only one answered with a 5xx marks the
/// span failed.
struct OperationSpanMiddleware: ServerMiddleware {
    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        try await TraceSpans.child(operationID) { span in
            if span.isRecording {
                let principal = RequestScope.current.principal
                span.updateAttributes { attributes in
                    attributes["agentplane.use_case"] = operationID
                    attributes["agentplane.tenant_id"] = principal?.tenantID.description
                    attributes["enduser.id"] = principal?.subject
                }
            }
            do {
                return try await next(request, body, metadata)
            } catch {
                // The problem's code, never the error's text (a `ServerError` describes the whole request).
                let (answer, isInternal) = ErrorMapping.clientError(for: error)
                span.attributes["error.type"] = answer.code.rawValue
                if isInternal { span.setStatus(SpanStatus(code: .error)) }
                throw error
            }
        }
    }
}
