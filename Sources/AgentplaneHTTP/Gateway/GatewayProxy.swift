import AgentplaneCore
import AgentplaneEngine
import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import Synchronization

/// The upstream side of the gateway: the call to an `http` instance's endpoint, streamed both ways.
struct GatewayProxy: Sendable {
    /// The gateway's own client: no redirects (they could lead past the SSRF check), a 10 s connect
    /// timeout, and room for many concurrent calls to one agent service.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout.connect = .seconds(10)
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
        // A refused connection fails the call at once (a 502), instead of being retried until the deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.tracing.tracer = nil  // the call is traced as `gateway.proxy` (OutboundTracing)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    let outbound: OutboundPolicy
    let settings: GatewaySettings

    /// One call upstream.
    struct Call: Sendable {
        var url: URL
        var method: HTTPRequest.Method
        var headers: [(name: String, value: String)]
        /// The caller's body, streamed up, and its declared length (nil: chunked).
        var body: RequestBody?
        var contentLength: Int?
        /// How long the response head may take; also the longest silence within the body.
        var timeout: Duration
    }

    /// The caller's body grew past the request limit while it was streamed up.
    struct RequestTooLarge: Error {}

    /// Sends `call` and answers once the upstream's response head has arrived: the one function a client span
    /// wraps. Throws `AgentplaneError`s only: 502 `UPSTREAM_FAILED`, 504 `UPSTREAM_TIMEOUT`, 413.
    func send(_ call: Call) async throws -> HTTPClientResponse {
        do {
            try await outbound.check(call.url)
        } catch {
            throw AgentplaneError(
                .badGateway, "The gateway may not call the instance's endpoint: \(error.description).")
        }
        var request = HTTPClientRequest(url: call.url.absoluteString)
        request.method = HTTPMethod(rawValue: call.method.rawValue)
        for header in call.headers { request.headers.add(name: header.name, value: header.value) }
        let tripped = Tripwire()
        if let body = call.body {
            let limited = LimitedBody(base: body, limit: settings.maximumRequestBytes, tripped: tripped)
            request.body = .stream(limited, length: call.contentLength.map { .known(Int64($0)) } ?? .unknown)
        }
        let nanoseconds =
            call.timeout.components.seconds * 1_000_000_000 + call.timeout.components.attoseconds / 1_000_000_000
        do {
            return try await OutboundTracing.withClientSpan("gateway.proxy", request) {
                try await Self.client.execute($0, timeout: .nanoseconds(nanoseconds))
            }
        } catch {
            if tripped.isSet { throw Self.requestTooLarge(settings.maximumRequestBytes) }
            throw Self.upstreamError(error, url: call.url, timeout: call.timeout)
        }
    }

    /// The 413 of a body over `limit`.
    static func requestTooLarge(_ limit: Int) -> AgentplaneError {
        AgentplaneError(.payloadTooLarge, "The request body is larger than the gateway's limit of \(limit) bytes.")
    }

    /// The problem for a failed upstream call: what went wrong, naming the endpoint's host and port only (never
    /// its path, query or credentials, nor any header).
    static func upstreamError(_ error: any Error, url: URL, timeout: Duration) -> AgentplaneError {
        let host = "\(url.host ?? "?")\(url.port.map { ":\($0)" } ?? "")"
        if let client = error as? HTTPClientError {
            switch client {
            case .deadlineExceeded, .readTimeout:
                return AgentplaneError(
                    .upstreamTimeout,
                    "The instance's endpoint (\(host)) did not answer within its timeout of \(timeout.components.seconds) s."
                )
            case .connectTimeout:
                return AgentplaneError(.badGateway, "The instance's endpoint (\(host)) did not accept a connection.")
            case .remoteConnectionClosed:
                return AgentplaneError(
                    .badGateway, "The instance's endpoint (\(host)) closed the connection without an answer.")
            default:
                break
            }
        }
        let reason: String
        switch error {
        case is HTTPParserError: reason = "answered something that is not HTTP"
        case let io as IOError where io.errnoCode == ECONNREFUSED: reason = "refused the connection"
        default:
            // Matched by name: the connection and TLS error types live in modules this target does not import.
            let text = String(reflecting: type(of: error))
            if text.contains("NIOConnectionError") || text.contains("ConnectionFailure") {
                reason = "could not be connected to (refused or unreachable)"
            } else if text.contains("SSL") || text.contains("TLS") {
                reason = "failed the TLS handshake"
            } else {
                reason = "failed"
            }
        }
        return AgentplaneError(.badGateway, "The instance's endpoint (\(host)) \(reason).")
    }
}

/// Set once when a limit trips (read by the task that sees the resulting failure).
final class Tripwire: Sendable {
    private let state = Mutex(false)
    var isSet: Bool { state.withLock { $0 } }
    func set() { state.withLock { $0 = true } }
}

/// The caller's body, failing once it has carried more than `limit` bytes.
struct LimitedBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let base: RequestBody
    let limit: Int
    let tripped: Tripwire

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let limit: Int
        let tripped: Tripwire
        var seen = 0

        mutating func next() async throws -> ByteBuffer? {
            guard let chunk = try await base.next() else { return nil }
            seen += chunk.readableBytes
            if seen > limit {
                tripped.set()
                throw GatewayProxy.RequestTooLarge()
            }
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), limit: limit, tripped: tripped)
    }
}
