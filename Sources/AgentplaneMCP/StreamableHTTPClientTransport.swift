import AgentplaneTracing
import AsyncHTTPClient
import Foundation
import Logging
import MCP
import NIOCore
import NIOHTTP1

/// The MCP streamable-HTTP transport (spec 2025-03-26 and later), client side, over AsyncHTTPClient:
/// each JSON-RPC message is POSTed; the reply is JSON, an SSE stream of messages, or 202 with no body.
/// The SDK's own `HTTPClientTransport` cannot read SSE replies on Linux, which most servers send.
///
/// Not done: the optional GET stream for server-initiated messages, and resuming a broken SSE stream
/// with `Last-Event-ID`; a reply lost that way surfaces as the caller's timeout.
public actor StreamableHTTPClientTransport: Transport {
    /// The transport's logger (the SDK's `Transport` requirement).
    public nonisolated let logger: Logger
    private let endpoint: URL
    private let extraHeaders: [String: String]
    private let httpClient: HTTPClient
    private let requestTimeout: Duration
    private let maximumReplyBytes: Int
    private let messages: AsyncThrowingStream<Data, any Error>
    private let continuation: AsyncThrowingStream<Data, any Error>.Continuation
    private var sessionID: String?
    private var protocolVersion: String?
    private var initializeRequestID: String?
    private var isConnected = false
    /// The longest wait for the server to acknowledge a notification or response.
    static let acknowledgementTimeout: Duration = .seconds(10)
    /// The SSE replies being read, cancelled by `disconnect()`.
    private var replyReaders: [UUID: Task<Void, Never>] = [:]

    /// A transport POSTing to `url` with `headers` added to every request; each exchange must end within
    /// `requestTimeout`, and a JSON reply may be at most `maximumReplyBytes` long.
    public init(
        url: URL, headers: [String: String], httpClient: HTTPClient, requestTimeout: Duration = .seconds(300),
        maximumReplyBytes: Int = 16 * 1024 * 1024, logger: Logger
    ) {
        self.endpoint = url
        self.extraHeaders = headers
        self.httpClient = httpClient
        self.requestTimeout = requestTimeout
        self.maximumReplyBytes = maximumReplyBytes
        self.logger = logger
        (messages, continuation) = AsyncThrowingStream.makeStream(of: Data.self)
    }

    /// The session id the server assigned in its initialize reply, if any.
    public var currentSessionID: String? { sessionID }

    /// Marks the transport usable; the first POST (initialize) opens the session.
    public func connect() async throws {
        isConnected = true
    }

    /// Stops reading replies, ends the message stream and ends the session with a DELETE (best effort).
    public func disconnect() async {
        guard isConnected else { return }
        isConnected = false
        for reader in replyReaders.values { reader.cancel() }
        replyReaders.removeAll()
        continuation.finish()
        guard sessionID != nil else { return }
        let request = makeRequest(method: .DELETE)
        do {
            let response = try await httpClient.execute(request, timeout: .seconds(2))
            _ = try? await response.body.collect(upTo: 64 * 1024)
        } catch {
            logger.debug("MCP session DELETE failed", metadata: ["error": "\(error)"])
        }
    }

    /// POSTs one JSON-RPC message and routes the reply's messages to `receive()`.
    public func send(_ data: Data) async throws {
        guard isConnected else { throw MCPError.notConnected }
        let outgoing = OutgoingMessage(data)
        if outgoing.isInitialize { initializeRequestID = outgoing.id }

        var request = makeRequest(method: .POST)
        request.headers.replaceOrAdd(name: "Accept", value: "application/json, text/event-stream")
        request.headers.replaceOrAdd(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: data))

        // A notification or response is only acknowledged (202): it gets a short limit, so a cancel
        // notification sent after a timeout cannot hang its sender for a whole request's time.
        let limit = outgoing.id == nil ? min(requestTimeout, Self.acknowledgementTimeout) : requestTimeout
        let deadline = NIODeadline.now() + TimeAmount(limit)
        let response: HTTPClientResponse
        do {
            response = try await OutboundTracing.withClientSpan("mcp.http", request) {
                try await httpClient.execute($0, deadline: deadline, logger: logger)
            }
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            throw MCPError.timeout
        }
        guard (200..<300).contains(response.status.code) else {
            _ = try? await response.body.collect(upTo: 64 * 1024)
            throw MCPError.http(status: Int(response.status.code))
        }
        if outgoing.isInitialize, let assigned = response.headers.first(name: "Mcp-Session-Id") {
            sessionID = assigned
        }
        if response.status == .accepted {
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return
        }
        let contentType = response.headers.first(name: "Content-Type")?.lowercased() ?? ""
        if contentType.hasPrefix("text/event-stream") {
            let readerID = UUID()
            replyReaders[readerID] = Task { await self.readEvents(of: response, readerID: readerID) }
        } else if contentType.hasPrefix("application/json") {
            let body: ByteBuffer
            do {
                body = try await response.body.collect(upTo: maximumReplyBytes)
            } catch let error as HTTPClientError where error == .deadlineExceeded {
                throw MCPError.timeout
            }
            if body.readableBytes > 0 { deliver(Data(body.readableBytesView)) }
        } else {
            _ = try? await response.body.collect(upTo: 64 * 1024)
            guard outgoing.id == nil else {
                throw MCPError.protocolError("unexpected reply content type '\(contentType)'")
            }
        }
    }

    /// The messages the server sends, in arrival order.
    public func receive() -> AsyncThrowingStream<Data, any Error> {
        messages
    }

    /// Reads an SSE reply to its end, delivering each event's data as one message.
    private func readEvents(of response: HTTPClientResponse, readerID: UUID) async {
        defer { replyReaders[readerID] = nil }
        var parser = ServerSentEventParser()
        do {
            for try await chunk in response.body {
                for event in parser.feed(chunk.readableBytesView)
                where (event.event ?? "message") == "message" && !event.data.isEmpty {
                    deliver(Data(event.data.utf8))
                }
            }
        } catch {
            if !Task.isCancelled {
                logger.debug("MCP SSE reply ended early", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Yields one incoming message, noting the negotiated protocol version from the initialize reply.
    private func deliver(_ message: Data) {
        if let initializeRequestID, protocolVersion == nil,
            let reply = try? JSONDecoder().decode(InitializeReply.self, from: message),
            reply.id?.text == initializeRequestID
        {
            protocolVersion = reply.result?.protocolVersion
        }
        continuation.yield(message)
    }

    /// A request to the endpoint with the spec's headers, and the session's once it has one.
    private func makeRequest(method: HTTPMethod) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: endpoint.absoluteString)
        request.method = method
        for (name, value) in extraHeaders { request.headers.replaceOrAdd(name: name, value: value) }
        if let sessionID { request.headers.replaceOrAdd(name: "Mcp-Session-Id", value: sessionID) }
        if let protocolVersion { request.headers.replaceOrAdd(name: "MCP-Protocol-Version", value: protocolVersion) }
        return request
    }
}

extension TimeAmount {
    /// The NIO amount of a Swift duration (nanosecond precision).
    fileprivate init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
