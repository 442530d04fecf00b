import AgentplaneCore
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Asks an OpenAI-compatible endpoint (`POST <base>/chat/completions`) for chat completions, plain or
/// streamed (server-sent events). Every URL passes the outbound policy first (SSRF); 429, 5xx and lost
/// connections are tried again with exponential backoff (0.5 s, 1 s, 2 s … at most 30 s, or the answer's
/// `Retry-After`, at most 60 s) within the request's timeout; other 4xx fail at once. Failures are
/// `ToolFailure`s naming the endpoint's host, never the API key.
public struct ChatModelClient: Sendable {
    let httpClient: HTTPClient
    let outbound: OutboundPolicy
    var logger: Logger
    let sleep: @Sendable (Duration) async throws -> Void

    /// The most bytes of an answer (a whole completion, or a whole stream) the client reads.
    public static let maximumResponseBytes = 4 << 20
    /// The longest backoff between attempts.
    public static let maximumBackoff: Duration = .seconds(30)
    /// The longest wait a `Retry-After` header gets.
    public static let maximumRetryAfter: Duration = .seconds(60)

    /// Creates a client; `sleep` waits between attempts (tests may record the waits instead).
    public init(
        httpClient: HTTPClient, outbound: OutboundPolicy, logger: Logger,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.httpClient = httpClient
        self.outbound = outbound
        self.logger = logger
        self.sleep = sleep
    }

    /// The same client logging to `logger`.
    public func logging(to logger: Logger) -> ChatModelClient {
        var copy = self
        copy.logger = logger
        return copy
    }

    /// Asks for a completion. With `stream`, sends `"stream": true` (and asks for the usage in the last
    /// chunk), reads the server-sent events as they come and hands each piece of content to `onDelta`; a
    /// stream that ends without `[DONE]` after some content counts as finished. Once content has been handed
    /// on, a failure is not retried within the call (the caller has seen part of an answer).
    public func complete(
        _ request: ChatRequest, stream: Bool, onDelta: (@Sendable (String) async -> Void)?
    ) async throws -> ChatCompletion {
        let url = try Self.endpoint(request.baseURL, path: "chat/completions")
        do {
            try await outbound.check(url)
        } catch {
            throw ToolFailure("the model endpoint is refused: \(error.description)", retryable: false)
        }
        guard request.maxRetries >= 0 else { throw ToolFailure("maxRetries must not be negative", retryable: false) }
        let host = Self.hostText(url)
        let deadline = ContinuousClock.now + request.timeout
        return try await withTimeout(request.timeout, "the chat completion at \(host)") {
            try await attempts(request, url: url, stream: stream, onDelta: onDelta, deadline: deadline)
        }
    }

    /// Readiness of a model endpoint for health probes: `GET <base>/models`; any answer below 500 is ready
    /// (a 401 still shows the endpoint is up). The detail says what happened, without the key.
    public func probe(baseURL: URL, apiKey: String?, timeout: Duration) async -> (ready: Bool, detail: String) {
        let url: URL
        do {
            url = try Self.endpoint(baseURL, path: "models")
            try await outbound.check(url)
        } catch let refusal as OutboundRefusal {
            return (false, "refused: \(refusal.description)")
        } catch {
            return (false, "\(error)")
        }
        var get = HTTPClientRequest(url: url.absoluteString)
        get.method = .GET
        if let apiKey { get.headers.add(name: "authorization", value: "Bearer \(apiKey)") }
        let (client, request) = (httpClient, get)
        do {
            let code = try await withTimeout(timeout, "the model endpoint \(Self.hostText(url))") {
                let response = try await OutboundTracing.withClientSpan("llm.probe", request) {
                    try await client.execute($0, deadline: .now() + Self.timeAmount(timeout))
                }
                _ = try await Self.prefix(of: response.body, upTo: 64 << 10)
                return Int(response.status.code)
            }
            return (code < 500, "GET /models answered \(code)")
        } catch let failure as ToolFailure {
            return (false, failure.description)
        } catch {
            return (false, "unreachable: \(error)")
        }
    }

    /// Tries until an attempt succeeds, fails for good, or the retries are spent.
    func attempts(
        _ request: ChatRequest, url: URL, stream: Bool, onDelta: (@Sendable (String) async -> Void)?,
        deadline: ContinuousClock.Instant
    ) async throws -> ChatCompletion {
        let host = Self.hostText(url)
        var attempt = 0
        while true {
            attempt += 1
            do {
                var completion = try await send(request, url: url, stream: stream, onDelta: onDelta, deadline: deadline)
                completion.attempts = attempt
                return completion
            } catch let error as AttemptError {
                switch Self.decide(error, attempt: attempt, maxRetries: request.maxRetries, host: host) {
                case .fail(let failure):
                    throw failure
                case .retry(let wait):
                    let left = deadline - ContinuousClock.now
                    guard wait < left else {
                        throw ToolFailure(
                            "\(error.summary(host: host)); the next attempt (in \(wait.formatted())) would pass "
                                + "the call's timeout")
                    }
                    logger.info(
                        "model endpoint attempt failed, retrying",
                        metadata: [
                            "host": .string(host), "model": .string(request.model),
                            "attempt": .stringConvertible(attempt),
                            "wait": .string(wait.formatted()), "error": .string(error.summary(host: host)),
                        ])
                    try await sleep(wait)
                }
            }
        }
    }

    /// One request; throws `AttemptError` for what the retry decision weighs.
    func send(
        _ request: ChatRequest, url: URL, stream: Bool, onDelta: (@Sendable (String) async -> Void)?,
        deadline: ContinuousClock.Instant
    ) async throws -> ChatCompletion {
        var http = HTTPClientRequest(url: url.absoluteString)
        http.method = .POST
        http.headers.add(name: "content-type", value: "application/json")
        http.headers.add(name: "accept", value: stream ? "text/event-stream" : "application/json")
        if let apiKey = request.apiKey { http.headers.add(name: "authorization", value: "Bearer \(apiKey)") }
        http.body = .bytes(ByteBuffer(string: request.body(stream: stream).jsonText))
        let response: HTTPClientResponse
        do {
            let client = httpClient
            response = try await OutboundTracing.withClientSpan("llm.chat", http) {
                try await client.execute($0, deadline: .now() + Self.timeAmount(deadline - .now))
            }
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            // The call's deadline, reached while waiting for the answer's head.
            throw ToolFailure(
                "the chat completion at \(Self.hostText(url)) timed out after \(request.timeout.formatted())")
        } catch {
            try Task.checkCancellation()
            throw AttemptError.connection("\(error)")
        }
        let code = Int(response.status.code)
        guard (200..<300).contains(code) else {
            let bytes = try? await Self.prefix(of: response.body, upTo: 64 << 10)
            throw AttemptError.status(
                code, message: Self.errorMessage(bytes ?? []),
                retryAfter: Self.retryAfter(response.headers.first(name: "retry-after"), now: Date()))
        }
        let contentType = response.headers.first(name: "content-type")?.lowercased() ?? ""
        if stream && (contentType.contains("text/event-stream") || contentType.isEmpty) {
            return try await readStream(response.body, onDelta: onDelta)
        }
        let bytes: [UInt8]
        do {
            bytes = try await Self.prefix(of: response.body, upTo: Self.maximumResponseBytes, failBeyond: true)
        } catch let error as AttemptError {
            throw error
        } catch {
            try Task.checkCancellation()
            throw AttemptError.connection("\(error)")
        }
        let completion = try Self.completion(parsing: bytes)
        // An endpoint that ignores `stream` answers in one piece: that is one delta.
        if stream, !completion.content.isEmpty, let onDelta { await onDelta(completion.content) }
        return completion
    }

    /// Reads a server-sent event stream of `chat.completion.chunk`s.
    func readStream(
        _ body: HTTPClientResponse.Body, onDelta: (@Sendable (String) async -> Void)?
    ) async throws -> ChatCompletion {
        var lines = ServerSentEventLines()
        var state = ChatStreamState()
        var received = 0
        do {
            for try await buffer in body {
                received += buffer.readableBytes
                if received > Self.maximumResponseBytes {
                    throw AttemptError.tooLarge(delivered: state.delivered)
                }
                for line in lines.append(buffer) {
                    if let delta = try state.consume(line), let onDelta { await onDelta(delta) }
                    if state.done { return state.completion }
                }
            }
            for line in lines.finish() {
                if let delta = try state.consume(line), let onDelta { await onDelta(delta) }
            }
        } catch let error as AttemptError {
            throw error
        } catch {
            try Task.checkCancellation()
            if state.delivered { throw AttemptError.broken("the stream broke off: \(error)") }
            throw AttemptError.connection("\(error)")
        }
        if state.done || state.delivered { return state.completion }
        guard state.chunks > 0 else { throw AttemptError.invalid("an event stream without any data") }
        throw AttemptError.connection("the stream ended before any content or [DONE]")
    }

    /// `<base>/<path>`, for an http(s) base URL with a host.
    static func endpoint(_ base: URL, path: String) throws -> URL {
        guard let scheme = base.scheme?.lowercased(), scheme == "http" || scheme == "https", base.host != nil else {
            throw ToolFailure("the model endpoint must be an http(s) URL", retryable: false)
        }
        var text = base.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        guard let url = URL(string: "\(text)/\(path)") else {
            throw ToolFailure("the model endpoint is not a valid URL", retryable: false)
        }
        return url
    }

    /// The host (and port, when given) for messages and logs.
    static func hostText(_ url: URL) -> String {
        guard let host = url.host else { return "?" }
        return url.port.map { "\(host):\($0)" } ?? host
    }

    /// A duration as NIO's time amount (never negative).
    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
    }

    /// The body's first `limit` bytes; with `failBeyond`, a longer body is an error.
    static func prefix(
        of body: HTTPClientResponse.Body, upTo limit: Int, failBeyond: Bool = false
    ) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await buffer in body {
            bytes.append(contentsOf: buffer.readableBytesView)
            if bytes.count > limit {
                if failBeyond { throw AttemptError.tooLarge(delivered: false) }
                return Array(bytes.prefix(limit))
            }
        }
        return bytes
    }
}
