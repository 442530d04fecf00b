import AgentplaneApp
import AgentplaneCore
import Foundation
import Tracing

/// The run whose attempt the current task performs: what its log lines name (`run_id`, `tenant_id`). Set by the
/// worker around each attempt's handler.
package struct RunScope: Sendable {
    /// The run.
    package var runID: UUID
    /// Its kind.
    package var kind: String
    /// The tenant the work belongs to.
    package var tenantID: TenantID
    /// The attempt's number.
    package var attempt: Int

    /// The run being performed, if any.
    @TaskLocal package static var current: RunScope?
}

/// One span per attempt of a run (`run <kind>`): a child of the span that enqueued it when the run carries a
/// trace (`RunTrace`), else the root of a trace of its own; with tracing off, no span at all.
enum RunTracing {
    /// Performs one attempt (`body`) inside the run's scope and, when `traced`, its span, which records the
    /// run, its kind, tenant and attempt, and the attempt's outcome.
    static func attempt(
        _ run: Run, traced: Bool, _ body: () async -> RunCompletion
    ) async -> RunCompletion {
        let scope = RunScope(
            runID: run.id, kind: run.request.kind, tenantID: run.request.tenantID, attempt: run.attempt)
        guard traced else { return await RunScope.$current.withValue(scope) { await body() } }
        let span = startSpan(
            "run \(run.request.kind)", context: RunTrace.parent(of: run) ?? .topLevel, ofKind: .consumer)
        defer { span.end() }
        if span.isRecording {
            span.updateAttributes { attributes in
                attributes["agentplane.run.id"] = run.id.lowercasedString
                attributes["agentplane.run.kind"] = run.request.kind
                attributes["agentplane.run.attempt"] = run.attempt
                attributes["agentplane.tenant_id"] = run.request.tenantID.description
            }
        }
        let completion = await RunScope.$current.withValue(scope) {
            await InstrumentationContext.$current.withValue(span.context) { await body() }
        }
        span.attributes["agentplane.run.outcome"] = outcome(of: completion, for: run)
        if case .failed(let error, _) = completion {
            span.setStatus(SpanStatus(code: .error, message: error))
        }
        return completion
    }

    /// The attempt's outcome as spans name it.
    static func outcome(of completion: RunCompletion, for run: Run) -> String {
        RunMetrics.outcome(of: completion, for: run) ?? "handed_back"
    }
}
