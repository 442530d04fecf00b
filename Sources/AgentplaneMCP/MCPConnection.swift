import AgentplaneCore
import AsyncHTTPClient
import Foundation
import Logging
import MCP

/// Why a request failed before it reached the server: the pool may retry it on a fresh connection.
enum ConnectionFailure: Error {
    case requestNotWritten
}

/// One live MCP session (an SDK `Client` over a stdio child or streamable HTTP), for one spec version.
actor MCPConnection {
    /// The version of the spec this connection was opened for.
    let version: Int64
    private let client: Client
    private let process: StdioServerProcess?
    private let stdio: ChildStdioTransport?
    private let logger: Logger
    private var isClosed = false
    private var exitWatcher: Task<Void, Never>?
    /// The requests still unread in the child's stdin when it ended (they may be sent again).
    private var notReadAtExit: Set<String> = []

    private init(version: Int64, client: Client, stdio: (StdioServerProcess, ChildStdioTransport)?, logger: Logger) {
        self.version = version
        self.client = client
        self.process = stdio?.0
        self.stdio = stdio?.1
        self.logger = logger
    }

    /// What `open` needs besides the spec.
    struct Context: Sendable {
        var stdioAllowList: Set<String>
        var httpClient: HTTPClient
        var outboundCheck: @Sendable (URL) async throws -> Void
        var connectTimeout: Duration
        var logger: Logger
    }

    /// Starts the server (stdio) or reaches it (HTTP), and runs the initialize handshake.
    static func open(_ spec: MCPServerSpec, context: Context) async throws -> MCPConnection {
        var logger = context.logger
        logger[metadataKey: "mcp_server"] = "\(spec.name)"
        let client = Client(name: "agentplane", version: "1")
        let transport: any Transport
        let stdio: (StdioServerProcess, ChildStdioTransport)?
        switch spec.transport {
        case .stdio(let command, let arguments, let environment):
            let child = try StdioServerProcess(
                command: command, arguments: arguments, environment: environment,
                allowList: context.stdioAllowList)
            let childTransport = ChildStdioTransport(process: child, logger: logger)
            stdio = (child, childTransport)
            transport = childTransport
        case .http(let url, let headers):
            try await context.outboundCheck(url)
            stdio = nil
            transport = StreamableHTTPClientTransport(
                url: url, headers: headers, httpClient: context.httpClient, logger: logger)
        }
        let process = stdio?.0
        let connection = MCPConnection(version: spec.version, client: client, stdio: stdio, logger: logger)
        await connection.watchExit()
        do {
            try await connection.withDeadline(context.connectTimeout) {
                _ = try await client.connect(transport: transport)
            } onTimeout: {
                await client.disconnect()
            }
        } catch {
            let failure = await connection.translate(error)
            await connection.close()
            guard failure is ConnectionFailure || failure as? MCPError == .notConnected else { throw failure }
            // The handshake could not be written or was cut off: a child that exited explains why.
            if let process, let status = process.exitStatus {
                throw MCPError.serverExited(status: status, stderrTail: await process.stderrText())
            }
            throw MCPError.notConnected
        }
        return connection
    }

    /// Whether the connection can take requests: not closed, and its process (if any) still running.
    var isUsable: Bool { !isClosed && process?.exitStatus == nil }

    /// The stdio child's process id (nil for HTTP).
    nonisolated var processID: Int32? { process?.pid }

    /// Waits (at most `timeout`) for the stdio child to end; nil for HTTP or when the time passes.
    nonisolated func waitForProcessExit(within timeout: Duration) async -> Int32? {
        await process?.waitForExit(within: timeout)
    }

    /// Every tool the server lists, following `nextCursor` (at most 100 pages).
    func listTools(timeout: Duration) async throws -> [MCPToolDescriptor] {
        var tools: [MCPToolDescriptor] = []
        var cursor: String?
        var pages = 0
        repeat {
            let parameters = cursor.map { ListTools.Parameters(cursor: $0) } ?? ListTools.Parameters()
            let page = try await perform(ListTools.request(parameters), timeout: timeout)
            tools += page.tools.map(MCPToolDescriptor.init)
            cursor = page.nextCursor
            pages += 1
        } while cursor != nil && pages < 100
        return tools
    }

    /// Calls `tool`; a reply later than `timeout` is abandoned (the server is told to cancel it).
    func call(tool: String, arguments: [String: JSONValue], timeout: Duration) async throws -> MCPToolResult {
        let request = CallTool.request(.init(name: tool, arguments: arguments.mapValues(\.mcpValue)))
        return try MCPToolResult(try await perform(request, timeout: timeout))
    }

    /// Ends the session: the SDK client, the HTTP session (DELETE) or the child (SIGTERM, then SIGKILL).
    func close() async {
        isClosed = true
        exitWatcher?.cancel()
        exitWatcher = nil
        await client.disconnect()
        await process?.terminate()
    }

    /// Sends `request` and waits at most `timeout` for its reply.
    private func perform<M: MCP.Method>(_ request: Request<M>, timeout: Duration) async throws -> M.Result {
        guard isUsable else { throw ConnectionFailure.requestNotWritten }
        let client = self.client
        let context: RequestContext<M.Result>
        do {
            context = try await client.send(request)
        } catch {
            throw await translate(error)
        }
        do {
            let result = try await withDeadline(timeout) {
                try await context.value
            } onTimeout: {
                try? await client.cancelRequest(context.requestID, reason: "timed out")
            }
            await stdio?.forget(context.requestID)
            return result
        } catch {
            await stdio?.forget(context.requestID)
            if process?.exitStatus != nil, notReadAtExit.contains(RequestIDText(context.requestID).text) {
                throw ConnectionFailure.requestNotWritten  // still in the dead child's pipe: never acted on
            }
            throw await translate(error)
        }
    }

    /// Runs `operation`, or after `timeout` runs `onTimeout` (which must make `operation` end) and
    /// throws `MCPError.timeout`.
    private nonisolated func withDeadline<T: Sendable>(
        _ timeout: Duration, _ operation: @escaping @Sendable () async throws -> T,
        onTimeout: @escaping @Sendable () async -> Void
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            if let value = try await group.next() ?? nil { return value }
            await onTimeout()
            throw MCPError.timeout
        }
    }

    /// Our error for whatever a request threw: a request that never left (retryable), the child's end,
    /// an HTTP status, or a protocol error.
    private func translate(_ error: any Error) async -> any Error {
        if error is MCPError || error is CancellationError || error is ConnectionFailure { return error }
        if let sdkError = error as? MCP.MCPError {
            switch sdkError {
            case .transportError:
                return ConnectionFailure.requestNotWritten  // the stdio write failed: a dead child's pipe
            case .internalError("Client connection not initialized"):
                return ConnectionFailure.requestNotWritten
            default:
                break
            }
        }
        if let process, let status = process.exitStatus {
            return MCPError.serverExited(status: status, stderrTail: await process.stderrText())
        }
        if let sdkError = error as? MCP.MCPError {
            if case .internalError("Client disconnected") = sdkError { return MCPError.notConnected }
            return MCPError.protocolError(sdkError.errorDescription ?? "\(sdkError)")
        }
        if let httpError = error as? HTTPClientError {
            return MCPError.protocolError("HTTP exchange failed: \(httpError)")
        }
        return MCPError.protocolError(String(describing: error))
    }

    /// Watches the stdio child: when it ends, pending requests fail at once instead of waiting out
    /// their time limits.
    private func watchExit() {
        guard let process else { return }
        exitWatcher = Task { [weak self] in
            guard await process.waitForExit() != nil else { return }
            await self?.processEnded()
        }
    }

    /// Fails the pending requests (those the child never read become retryable) and closes the pipes.
    private func processEnded() async {
        guard !isClosed, let process else { return }
        logger.notice(
            "MCP server process exited", metadata: ["pid": "\(process.pid)", "status": "\(process.exitStatus ?? -1)"])
        isClosed = true
        exitWatcher = nil
        notReadAtExit = await stdio?.requestsNotRead() ?? []  // before the pipe closes
        await client.disconnect()
        await process.terminate()
    }
}
