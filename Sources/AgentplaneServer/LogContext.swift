import AgentplaneEngine
import AgentplaneHTTP
import Logging
import OTel

/// What every log line says about the work it is written for: in a request, `request_id`, `trace_id` and, once
/// authenticated, `tenant_id` and `user_id` (the principal's subject, as events name it in `userid`); in a run's
/// attempt, `run_id` and `tenant_id`; inside a span (tracing on), its `trace_id` and `span_id`. Read from the
/// task-locals the request middleware and the worker set, so a handler's own lines need not repeat them.
public enum LogContext {
    /// The provider to bootstrap the logging system with.
    public static let metadataProvider: Logger.MetadataProvider = {
        let spans = OTel.makeLoggingMetadataProvider()
        return Logger.MetadataProvider {
            var metadata: Logger.Metadata = [:]
            let request = RequestScope.current
            if !request.requestID.isEmpty {
                metadata["request_id"] = .string(request.requestID)
                metadata["trace_id"] = .string(request.traceID)
                if let principal = request.principal ?? request.authenticated.principal {
                    metadata["tenant_id"] = .string(principal.tenantID.description)
                    metadata["user_id"] = .string(principal.subject)
                }
            } else if let run = RunScope.current {
                metadata["run_id"] = .string(run.runID.uuidString.lowercased())
                metadata["tenant_id"] = .string(run.tenantID.description)
            }
            for (key, value) in spans.get() where key != "trace_flags" { metadata[key] = value }
            return metadata
        }
    }()
}
