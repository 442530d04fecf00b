import AgentplaneCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Tracing

/// The outermost middleware (inside the server span, when tracing): gives every request its `X-Request-ID` and
/// trace id, writes the access log line, and is the last resort that turns any escaped error into a problem.
struct RequestLifecycleMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let start = ContinuousClock.now
        let scope = RequestScope(
            requestID: Self.requestID(from: request.headers[.xRequestID]),
            traceID: Self.spanTraceID() ?? Self.traceID(from: request.headers[.traceparent]),
            principal: nil,
            clientAddress: (context as? any RemoteAddressRequestContext)?.remoteAddress?.ipAddress
        )
        var response: Response
        do {
            response = try await RequestScope.$current.withValue(scope) { try await next(request, context) }
        } catch {
            response = ProblemMiddleware<Context>.problemResponse(
                for: error, path: request.uri.path, scope: scope, logger: logger)
        }
        response.headers[.xRequestID] = scope.requestID
        if request.uri.path == "/api/v1/auth/token" {
            // RFC 6749 §5.1: token responses must not be cached.
            response.headers[.cacheControl] = "no-store"
            response.headers[HTTPField.Name("Pragma")!] = "no-cache"
        }
        // The generated code percent-encodes header values; an ETag needs its quotes as they are.
        if let etag = response.headers[.eTag], etag.contains("%") {
            response.headers[.eTag] = etag.removingPercentEncoding
        }
        if logger.logLevel <= .info {
            let elapsed = ContinuousClock.now - start
            let milliseconds = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
            var metadata: Logger.Metadata = [
                "request_id": .string(scope.requestID),
                "trace_id": .string(scope.traceID),
                "method": .string(request.method.rawValue),
                "route": .string(context.endpointPath ?? "unmatched"),
                "status": .stringConvertible(response.status.code),
                "duration_ms": .stringConvertible((milliseconds * 1000).rounded() / 1000),
            ]
            if let principal = scope.authenticated.principal {
                metadata["tenant_id"] = .string(principal.tenantID.description)
                metadata["user_id"] = .string(principal.subject)
            }
            logger.info("request", metadata: metadata)
        }
        return response
    }

    /// The client's request id when it is a sane token, else a new UUIDv7.
    static func requestID(from header: String?) -> String {
        if let header, (1...128).contains(header.utf8.count),
            header.utf8.allSatisfy({ byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x2D || byte == 0x5F || byte == 0x2E || byte == 0x3A
            })
        {
            return header
        }
        return UUIDv7.make().lowercasedString
    }

    /// The trace id of the request's span, when it is traced (it continues a valid `traceparent`, or starts a
    /// trace): logs, problem documents and the exported spans then name the same trace.
    static func spanTraceID() -> String? {
        guard let context = InstrumentationContext.current else { return nil }
        var fields = HTTPFields()
        InstrumentationSystem.instrument.inject(context, into: &fields, using: TraceparentInjector())
        guard let traceparent = fields[.traceparent] else { return nil }
        return traceID(from: traceparent)
    }

    /// The trace id of a valid W3C `traceparent`, else a new random one.
    static func traceID(from traceparent: String?) -> String {
        if let parts = traceparent?.split(separator: "-"), parts.count == 4, parts[1].count == 32,
            parts[1].allSatisfy(\.isHexDigit), parts[1] != String(repeating: "0", count: 32)
        {
            return parts[1].lowercased()
        }
        // Two 64-bit draws (each one `getrandom` call), not sixteen.
        var generator = SystemRandomNumberGenerator()
        let halves: (UInt64, UInt64) = (generator.next(), generator.next())
        return Hex.encode(withUnsafeBytes(of: halves) { Array($0) })
    }
}

extension HTTPField.Name {
    static let xRequestID = Self("X-Request-ID")!
    static let traceparent = Self("traceparent")!
}

/// Writes a trace context into header fields.
struct TraceparentInjector: Injector {
    func inject(_ value: String, forKey key: String, into fields: inout HTTPFields) {
        guard let name = HTTPField.Name(key) else { return }
        fields[name] = value
    }
}
