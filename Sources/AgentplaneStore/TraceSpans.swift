import Tracing

/// Spans inside the trace in progress (a traced request or run), and nothing at all outside one. With no tracer
/// bootstrapped no trace is ever active, so the untraced path costs one task-local read: no span, no clock
/// read, no attributes. Background loops (claims, heartbeats, sweeps) run outside any trace and stay unspanned.
package enum TraceSpans {
    /// Runs `body` in a child span named `name` of the active trace; with none active, runs it as is (its span is
    /// then a no-op one: check `isRecording` before computing attributes). `body` sets the span's status: only it
    /// knows which of its errors are failures, and which error texts may leave the process (an OpenAPI
    /// `ServerError` describes the request, credentials included).
    package static func child<T>(
        _ name: @autoclosure () -> String,
        ofKind kind: SpanKind = .internal,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (any Span) async throws -> T
    ) async rethrows -> T {
        guard let parent = InstrumentationContext.current else {
            return try await body(NoOpTracer.NoOpSpan(context: .topLevel))
        }
        let span = startSpan(name(), context: parent, ofKind: kind)
        defer { span.end() }
        return try await InstrumentationContext.$current.withValue(span.context) { try await body(span) }
    }

    /// One store call as a client span named `<Adapter>.<operation>` (from the adapter's `fileID` and `function`)
    /// with `db.system`; only a `StoreError` marks it failed (a domain refusal inside the transaction is an
    /// answer, not a database failure).
    package static func storeCall<T>(
        system: String,
        fileID: String,
        function: String,
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> T
    ) async throws -> T {
        guard let parent = InstrumentationContext.current else { return try await body() }
        let adapter = fileID.split(separator: "/").last?.split(separator: ".").first?.split(separator: "+").first
        let operation = function.split(separator: "(").first ?? Substring(function)
        let span = startSpan("\(adapter ?? "store").\(operation)", context: parent, ofKind: .client)
        defer { span.end() }
        if span.isRecording {
            span.updateAttributes { attributes in
                attributes["db.system"] = system
                attributes["db.operation.name"] = String(operation)
            }
        }
        do {
            return try await InstrumentationContext.$current.withValue(span.context) { try await body() }
        } catch let error as StoreError {
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error))
            throw error
        }
    }
}
