import AgentplaneCore
import Tracing

/// The trace a run continues. A run enqueued inside a trace (a traced request, or another run) carries that
/// trace's W3C `traceparent` among its arguments, under the reserved key `_traceparent`, so that the spans of its
/// attempts, on whichever node claims it and however much later, are children of the span that enqueued it. The
/// arguments hold it because they already travel with the run through both stores: no column, no migration.
public enum RunTrace {
    /// The reserved argument.
    public static let argument = "_traceparent"

    /// `runs`, each carrying the active trace's `traceparent`; unchanged when no trace is active.
    public static func stamped(_ runs: [NewRun]) -> [NewRun] {
        guard !runs.isEmpty, let context = InstrumentationContext.current else { return runs }
        var headers: [String: String] = [:]
        InstrumentationSystem.instrument.inject(context, into: &headers, using: DictionaryInjector())
        guard let traceparent = headers["traceparent"] else { return runs }
        return runs.map { run in
            var run = run
            run.arguments[argument] = .string(traceparent)
            return run
        }
    }

    /// The context an attempt of `run` continues; nil when the run carries none (or the tracer reads none from it).
    public static func parent(of run: Run) -> InstrumentationContext? {
        guard case .string(let traceparent)? = run.request.arguments[argument] else { return nil }
        var context = InstrumentationContext.topLevel
        InstrumentationSystem.instrument.extract(
            ["traceparent": traceparent], into: &context, using: DictionaryExtractor())
        return context.isEmpty ? nil : context
    }
}

/// Writes a trace context into a dictionary of header-like fields.
struct DictionaryInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key] = value
    }
}

/// Reads a trace context from a dictionary of header-like fields.
struct DictionaryExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}
