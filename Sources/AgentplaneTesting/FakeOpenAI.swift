import AgentplaneCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A real OpenAI-compatible server on a loopback port, for tests and benchmarks: `POST /v1/chat/completions`
/// (a JSON answer, or server-sent events flushed chunk by chunk when the request says `"stream": true`) and
/// `GET /v1/models`. It answers `reply` (default: `echo: <the last user message>`), can be told to fail the
/// next requests (`enqueue`) or every request (`alwaysStatus`), and records every request it receives.
public final class FakeOpenAI: Sendable {
    /// A scripted failure for one request (chat completions and model listings alike).
    public enum Failure: Sendable, Hashable {
        /// Answers `status` with an OpenAI error body (`message`, or a default) and the `Retry-After` given.
        case status(Int, retryAfter: String? = nil, message: String? = nil)
        /// Answers 200 with a body that is not JSON.
        case garbage
        /// Never answers, until the server stops.
        case hang
    }

    /// A request as the server received it.
    public struct RecordedRequest: Sendable {
        /// `GET` or `POST`.
        public var method: String
        /// The path, e.g. `/v1/chat/completions`.
        public var path: String
        /// The headers, names lowercased (a repeated header keeps its last value).
        public var headers: [String: String]
        /// The body as JSON (nil when empty or not JSON).
        public var body: JSONValue?

        /// The `Authorization` header.
        public var authorization: String? { headers["authorization"] }
        /// The W3C `traceparent` header.
        public var traceparent: String? { headers["traceparent"] }
    }

    struct State {
        var reply: String?
        var usage: (prompt: Int, completion: Int)?
        var chunkDelay: Duration = .zero
        var endsWithoutDone = false
        var alwaysStatus: Int?
        var failures: [Failure] = []
        var requests: [RecordedRequest] = []
        var stopping = false
        var hanging: [CheckedContinuation<Void, Never>] = []
    }

    let state = Mutex(State())
    private let service = Mutex<LoopbackServer?>(nil)
    /// Counted down by the first request, as it arrives.
    public let firstRequest = Latch(count: 1)
    /// The base URL of the API, `http://127.0.0.1:<port>/v1`.
    public let baseURL: URL

    private init(port: Int) {
        baseURL = URL(string: "http://127.0.0.1:\(port)/v1")!
    }

    /// The answer's text (nil: `echo: <the last user message>`).
    public var reply: String? {
        get { state.withLock { $0.reply } }
        set { state.withLock { $0.reply = newValue } }
    }

    /// The usage reported (nil: the words of the messages and the chunks of the answer).
    public var usage: (prompt: Int, completion: Int)? {
        get { state.withLock { $0.usage } }
        set { state.withLock { $0.usage = newValue } }
    }

    /// The pause before each streamed chunk after the first.
    public var chunkDelay: Duration {
        get { state.withLock { $0.chunkDelay } }
        set { state.withLock { $0.chunkDelay = newValue } }
    }

    /// Whether a stream ends without `data: [DONE]` (the connection just closes).
    public var endsWithoutDone: Bool {
        get { state.withLock { $0.endsWithoutDone } }
        set { state.withLock { $0.endsWithoutDone = newValue } }
    }

    /// A status every request gets (after the queued failures), e.g. 500; nil answers normally.
    public var alwaysStatus: Int? {
        get { state.withLock { $0.alwaysStatus } }
        set { state.withLock { $0.alwaysStatus = newValue } }
    }

    /// Queues failures for the next requests, in order.
    public func enqueue(_ failures: Failure...) {
        state.withLock { $0.failures.append(contentsOf: failures) }
    }

    /// The requests received so far, in order.
    public var requests: [RecordedRequest] { state.withLock { $0.requests } }

    /// Runs a server while `body` runs with it and its base URL (`http://127.0.0.1:<port>/v1`).
    public static func run<T: Sendable>(_ body: (FakeOpenAI, URL) async throws -> T) async throws -> T {
        let server = try await start()
        do {
            let result = try await body(server, server.baseURL)
            try await server.stop()
            return result
        } catch {
            try? await server.stop()
            throw error
        }
    }

    /// Starts a server on a free loopback port; `stop()` ends it.
    public static func start() async throws -> FakeOpenAI {
        let router = Router()
        let handler = Handler()
        router.post("/v1/chat/completions") { request, _ in try await handler.server().chat(request) }
        router.get("/v1/models") { request, _ in try await handler.server().models(request) }
        let loopback = try await LoopbackServer.start(router, label: "fake-openai")
        let server = FakeOpenAI(port: loopback.port)
        server.service.withLock { $0 = loopback }
        handler.set(server)
        return server
    }

    /// Stops the server: hanging requests are released first, then it shuts down gracefully.
    public func stop() async throws {
        let hanging = state.withLock { state in
            state.stopping = true
            defer { state.hanging = [] }
            return state.hanging
        }
        for waiter in hanging { waiter.resume() }
        guard let loopback = service.withLock({ $0.take() }) else { return }
        try await loopback.stop()
    }

    /// Records the request and answers the next scripted failure, if any.
    func record(_ request: Request, path: String) async throws -> (body: JSONValue?, failure: Failure?) {
        let bytes = try await request.body.collect(upTo: 4 << 20)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
        let recorded = RecordedRequest(
            method: request.method.rawValue, path: path, headers: headers,
            body: JSONValue(parsing: Array(bytes.readableBytesView)))
        let failure = state.withLock { state -> Failure? in
            state.requests.append(recorded)
            if !state.failures.isEmpty { return state.failures.removeFirst() }
            return state.alwaysStatus.map { .status($0) }
        }
        firstRequest.countDown()
        return (recorded.body, failure)
    }

    /// The answer a scripted failure gets.
    func answer(_ failure: Failure) async -> Response {
        switch failure {
        case .status(let code, let retryAfter, let message):
            var headers: HTTPFields = [.contentType: "application/json"]
            if let retryAfter { headers[.retryAfter] = retryAfter }
            let error: JSONValue = [
                "error": [
                    "message": .string(message ?? "fake failure \(code)"),
                    "type": code == 429 ? "rate_limit_exceeded" : "fake_error", "code": .null,
                ]
            ]
            return Response(
                status: HTTPResponse.Status(code: code), headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(string: error.jsonText)))
        case .garbage:
            return Response(
                status: .ok, headers: [.contentType: "text/html"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: "<html>surely not a chat completion</html>")))
        case .hang:
            await withCheckedContinuation { continuation in
                let stopping = state.withLock { state in
                    if !state.stopping { state.hanging.append(continuation) }
                    return state.stopping
                }
                if stopping { continuation.resume() }
            }
            return Response(status: .serviceUnavailable)
        }
    }

    func chat(_ request: Request) async throws -> Response {
        let (body, failure) = try await record(request, path: "/v1/chat/completions")
        if let failure { return await answer(failure) }
        guard let body, let messages = body["messages"]?.arrayValue, !messages.isEmpty else {
            return await answer(.status(400, message: "'messages' must be a non-empty array"))
        }
        let model = body["model"]?.stringValue ?? "fake-model"
        let (reply, usage, delay, withoutDone) = state.withLock {
            ($0.reply, $0.usage, $0.chunkDelay, $0.endsWithoutDone)
        }
        let lastUser = messages.last { $0["role"]?.stringValue == "user" }?["content"]?.stringValue ?? ""
        let text = reply ?? "echo: \(lastUser)"
        let pieces = Self.pieces(text)
        let promptWords = messages.reduce(0) { $0 + ($1["content"]?.stringValue?.split(separator: " ").count ?? 0) }
        let counts = usage ?? (promptWords, pieces.count)
        let usageJSON: JSONValue = [
            "prompt_tokens": .int(Int64(counts.prompt)), "completion_tokens": .int(Int64(counts.completion)),
            "total_tokens": .int(Int64(counts.prompt + counts.completion)),
        ]
        guard body["stream"] == .bool(true) else {
            let choice: JSONValue = [
                "index": .int(0), "message": ["role": "assistant", "content": .string(text)], "finish_reason": "stop",
            ]
            return Self.json([
                "id": "chatcmpl-fake", "object": "chat.completion",
                "created": .int(Int64(Date().timeIntervalSince1970)),
                "model": .string(model), "choices": .array([choice]), "usage": usageJSON,
            ])
        }
        func chunk(_ delta: JSONValue, finish: String? = nil) -> JSONValue {
            let choice: JSONValue = [
                "index": .int(0), "delta": delta, "finish_reason": finish.map(JSONValue.string) ?? .null,
            ]
            return [
                "id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": .string(model),
                "choices": .array([choice]),
            ]
        }
        var chunks = [chunk(["role": "assistant", "content": ""])] + pieces.map { chunk(["content": .string($0)]) }
        chunks.append(chunk([:], finish: "stop"))
        if body["stream_options"]?["include_usage"] == .bool(true) {
            chunks.append([
                "id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": .string(model),
                "choices": .array([]),
                "usage": usageJSON,
            ])
        }
        let events = chunks.map { "data: \($0.jsonText)\n\n" } + (withoutDone ? [] : ["data: [DONE]\n\n"])
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                for (index, event) in events.enumerated() {
                    if index > 0, delay > .zero { try await Task.sleep(for: delay) }
                    try await writer.write(ByteBuffer(string: event))
                }
                try await writer.finish(nil)
            })
    }

    /// The text in word-sized pieces that join back to it (`"a b"` → `["a", " b"]`).
    static func pieces(_ text: String) -> [String] {
        guard !text.isEmpty else { return [] }
        return text.split(separator: " ", omittingEmptySubsequences: false).enumerated().map { index, word in
            index == 0 ? String(word) : " " + word
        }.filter { !$0.isEmpty }
    }

    func models(_ request: Request) async throws -> Response {
        let (_, failure) = try await record(request, path: "/v1/models")
        if let failure { return await answer(failure) }
        let list: JSONValue = [
            "object": "list", "data": .array([["id": "fake-model", "object": "model", "owned_by": "agentplane"]]),
        ]
        return Self.json(list)
    }

    static func json(_ value: JSONValue) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: value.jsonText)))
    }
}

/// Hands the router's closures the server, made once the port is known.
private final class Handler: Sendable {
    private let current = Mutex<FakeOpenAI?>(nil)

    func set(_ server: FakeOpenAI) { current.withLock { $0 = server } }

    func server() throws -> FakeOpenAI {
        guard let server = current.withLock({ $0 }) else { throw HTTPError(.serviceUnavailable) }
        return server
    }
}
