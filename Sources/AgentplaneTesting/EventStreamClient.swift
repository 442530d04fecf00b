import AgentplaneCore
import AgentplaneStore
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// One message of a Server-Sent Events stream (a comment-only block has `comment` set and no data).
public struct ServerSentMessage: Sendable, Hashable {
    /// `id:`.
    public var id: String?
    /// `event:`.
    public var event: String?
    /// The `data:` lines joined.
    public var data: String?
    /// A comment line's text (`: keep-alive`), when the block held one.
    public var comment: String?

    /// The data as JSON.
    public var json: JSONValue? { data.flatMap { JSONValue(parsing: $0) } }
}

/// A real SSE client on loopback (AsyncHTTPClient, the response body read as it arrives): tests read messages one
/// by one with a deadline, so a lost event fails the test instead of hanging it.
public final class EventStreamClient: Sendable {
    /// The response status.
    public let status: Int
    /// The response's content type.
    public let contentType: String?
    private let reader: Task<Void, Never>
    private let state = Box()
    private final class Box: Sendable {
        let value = Mutex<(messages: [ServerSentMessage], ended: Bool)>(([], false))
        func withLock<R>(_ body: (inout (messages: [ServerSentMessage], ended: Bool)) -> R) -> R {
            value.withLock { body(&$0) }
        }
    }
    private let signal = RunWakeup()
    /// The body when the server answered with something other than a stream (a problem).
    public let problem: String?

    /// Opens `http://127.0.0.1:<port><path>` with `headers`; answers once the response head has arrived.
    public static func open(
        port: Int, path: String, headers: [(String, String)], method: HTTPMethod = .GET, body: String? = nil
    ) async throws -> EventStreamClient {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let status = Int(response.status.code)
        let type = response.headers.first(name: "content-type")
        if status != 200 {
            let body = try await response.body.collect(upTo: 1 << 20)
            return EventStreamClient(status: status, contentType: type, body: nil, problem: String(buffer: body))
        }
        return EventStreamClient(status: status, contentType: type, body: response.body, problem: nil)
    }

    /// A plain GET on a connection of its own (the test client serialises its requests on one connection, so a
    /// long poll on it would hold up every other request): the status and the body as JSON.
    public static func get(port: Int, path: String, key: String = testAdminKey) async throws -> (Int, JSONValue?) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(90))
        let body = try await response.body.collect(upTo: 1 << 22)
        return (Int(response.status.code), JSONValue(parsing: String(buffer: body)))
    }

    private init(status: Int, contentType: String?, body: HTTPClientResponse.Body?, problem: String?) {
        self.status = status
        self.contentType = contentType
        self.problem = problem
        let state = self.state
        let signal = self.signal
        reader = Task {
            guard let body else {
                state.withLock { $0.ended = true }
                return
            }
            var pending = ""
            do {
                for try await chunk in body {
                    pending += String(buffer: chunk)
                    while let range = pending.range(of: "\n\n") {
                        let block = String(pending[..<range.lowerBound])
                        pending = String(pending[range.upperBound...])
                        let message = Self.parse(block)
                        state.withLock { $0.messages.append(message) }
                        signal.signal()
                    }
                }
            } catch {}
            state.withLock { $0.ended = true }
            signal.signal()
        }
    }

    deinit { reader.cancel() }

    /// Closes the connection.
    public func close() { reader.cancel() }

    /// The next message that is not a keep-alive comment (unless `comments`), waiting up to `timeout`; nil when the
    /// stream ended; throws when nothing came in time.
    public func next(timeout: Duration = .seconds(10), comments: Bool = false) async throws -> ServerSentMessage? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (message, ended) = state.withLock { state -> (ServerSentMessage?, Bool) in
                while !state.messages.isEmpty {
                    let message = state.messages.removeFirst()
                    if comments || message.comment == nil || message.data != nil { return (message, false) }
                }
                return (nil, state.ended)
            }
            if let message { return message }
            if ended { return nil }
            guard ContinuousClock.now < deadline else {
                throw AwaitTimeout(description: "no server-sent message within \(timeout)")
            }
            await signal.wait(timeout: deadline - .now)
        }
    }

    /// The next event message (skipping the opening and keep-alive comments).
    public func nextEvent(timeout: Duration = .seconds(10)) async throws -> ServerSentMessage {
        let deadline = ContinuousClock.now + timeout
        while true {
            guard let message = try await next(timeout: deadline - .now) else {
                throw AwaitTimeout(description: "the stream ended before the next event")
            }
            if message.data != nil { return message }
        }
    }

    static func parse(_ block: String) -> ServerSentMessage {
        var message = ServerSentMessage()
        var data: [String] = []
        for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(":") {
                message.comment = String(line.dropFirst()).trimmingCharacters(in: .whitespaces)
                continue
            }
            let (field, value) =
                line.firstIndex(of: ":").map {
                    (String(line[..<$0]), String(line[line.index(after: $0)...]).trimmingPrefix(" "))
                } ?? (String(line), "")
            switch field {
            case "id": message.id = String(value)
            case "event": message.event = String(value)
            case "data": data.append(String(value))
            default: break
            }
        }
        if !data.isEmpty { message.data = data.joined(separator: "\n") }
        return message
    }
}
