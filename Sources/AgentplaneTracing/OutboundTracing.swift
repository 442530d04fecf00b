import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Tracing

/// Outbound HTTP calls as client spans, with the W3C trace context (`traceparent`, `tracestate`) in their
/// headers so that the service called continues the trace. It uses the tracing API only: the tracer is whatever
/// the composition root bootstrapped, or none.
///
/// Outside a trace (no tracer bootstrapped, or a call made outside any traced request or run) the request goes
/// out unchanged, for the price of one task-local read. Clients used with it should leave AsyncHTTPClient's
/// own tracing off (`configuration.tracing.tracer = nil`): it would add a second span per call and record the
/// query string, which may carry credentials.
public enum OutboundTracing {
    /// Sends `request` through `execute` as one client span named `name` (a low-cardinality purpose such as
    /// `http.request` or `webhook.deliver`): the span's trace context is added to the request's headers, the
    /// method, the URL without query or credentials, and the answer's status are recorded, and a status of 400 or
    /// more, or a thrown error, marks the span failed. The span ends when `execute` returns the response head.
    public static func withClientSpan(
        _ name: String,
        _ request: HTTPClientRequest,
        isolation: isolated (any Actor)? = #isolation,
        _ execute: (HTTPClientRequest) async throws -> HTTPClientResponse
    ) async throws -> HTTPClientResponse {
        guard let parent = InstrumentationContext.current else { return try await execute(request) }
        let span = startSpan(name, context: parent, ofKind: .client)
        defer { span.end() }
        var request = request
        InstrumentationSystem.instrument.inject(span.context, into: &request.headers, using: HTTPHeadersInjector())
        if span.isRecording { describe(request, on: span) }
        do {
            let traced = request
            let response = try await InstrumentationContext.$current.withValue(span.context) {
                try await execute(traced)
            }
            span.attributes["http.response.status_code"] = Int(response.status.code)
            if response.status.code >= 400 { span.setStatus(SpanStatus(code: .error)) }
            return response
        } catch {
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error))
            throw error
        }
    }

    /// The request's method and where it goes; the query and any user info are left out.
    static func describe(_ request: HTTPClientRequest, on span: any Span) {
        span.updateAttributes { attributes in
            attributes["http.request.method"] = request.method.rawValue
            guard let url = URL(string: request.url), let scheme = url.scheme, let host = url.host else { return }
            let port = url.port.map { ":\($0)" } ?? ""
            attributes["url.full"] = "\(scheme)://\(host)\(port)\(url.path)"
            attributes["server.address"] = host
            attributes["server.port"] = url.port ?? (scheme == "https" ? 443 : 80)
        }
    }
}

/// Writes the trace context into outgoing headers (replacing any the caller set).
struct HTTPHeadersInjector: Injector {
    func inject(_ value: String, forKey key: String, into headers: inout HTTPHeaders) {
        headers.replaceOrAdd(name: key, value: value)
    }
}
