import AgentplaneCore
import AsyncHTTPClient
import Foundation
import Logging

/// The live MCP connections of this process, one per server spec id, kept open and reused. A new spec
/// version replaces the old connection; a stdio server that died is restarted on its next use.
public actor MCPConnectionPool {
    private enum Slot {
        case connecting(version: Int64, Task<MCPConnection, any Error>)
        case ready(MCPConnection)
    }

    private let context: MCPConnection.Context
    private var slots: [UUID: Slot] = [:]
    private var toolCache: [UUID: (version: Int64, tools: [MCPToolDescriptor])] = [:]
    private var isShutDown = false

    /// A pool that starts only the stdio commands in `stdioAllowList` (absolute paths), reaches HTTP
    /// servers through `httpClient` after `outboundCheck` accepted their URL, and gives every connect and
    /// tool listing `connectTimeout`.
    public init(
        stdioAllowList: Set<String>, httpClient: HTTPClient,
        outboundCheck: @escaping @Sendable (URL) async throws -> Void, logger: Logger,
        connectTimeout: Duration = .seconds(30)
    ) {
        // A stdio server that died turns our next write to its stdin into SIGPIPE, which would end this
        // whole process: ignore it, so the write fails with EPIPE and the server is restarted instead.
        signal(SIGPIPE, SIG_IGN)
        context = MCPConnection.Context(
            stdioAllowList: stdioAllowList, httpClient: httpClient, outboundCheck: outboundCheck,
            connectTimeout: connectTimeout, logger: logger)
    }

    /// The server's tools, listed once per spec id and version (every page).
    public func tools(_ spec: MCPServerSpec) async throws -> [MCPToolDescriptor] {
        if let cached = toolCache[spec.id], cached.version == spec.version { return cached.tools }
        let timeout = context.connectTimeout
        let tools = try await withConnection(spec) { connection in
            try await connection.listTools(timeout: timeout)
        }
        if !isShutDown { toolCache[spec.id] = (spec.version, tools) }
        return tools
    }

    /// Calls `tool` with `arguments`, waiting at most `timeout` for the reply (connecting first if needed).
    public func call(
        _ spec: MCPServerSpec, tool: String, arguments: [String: JSONValue], timeout: Duration
    ) async throws -> MCPToolResult {
        let known = try await tools(spec)
        guard known.contains(where: { $0.name == tool }) else { throw MCPError.unknownTool(tool) }
        return try await withConnection(spec) { connection in
            try await connection.call(tool: tool, arguments: arguments, timeout: timeout)
        }
    }

    /// Ends every connection: stdio children get SIGTERM, then SIGKILL after 2 s; HTTP sessions are
    /// deleted. The pool refuses work afterwards.
    public func shutdown() async {
        isShutDown = true
        let closing = slots.values
        slots.removeAll()
        toolCache.removeAll()
        await withTaskGroup(of: Void.self) { group in
            for slot in closing {
                group.addTask {
                    switch slot {
                    case .ready(let connection):
                        await connection.close()
                    case .connecting(_, let task):
                        if let connection = try? await task.value { await connection.close() }
                    }
                }
            }
        }
    }

    /// The stdio child serving `spec` right now, if one is running (tests and diagnostics).
    package func processID(of spec: MCPServerSpec) async -> Int32? {
        guard case .ready(let connection) = slots[spec.id], await connection.isUsable else { return nil }
        return connection.processID
    }

    /// Waits (at most `timeout`) for the stdio child serving `spec` to end; its exit status, or nil (tests).
    package func waitForProcessExit(of spec: MCPServerSpec, within timeout: Duration) async -> Int32? {
        guard case .ready(let connection) = slots[spec.id] else { return nil }
        return await connection.waitForProcessExit(within: timeout)
    }

    /// Runs `operation` on the spec's connection; a request that never reached a dead stdio server is
    /// retried once on a restarted one. A connection that died (or whose HTTP session expired) is
    /// dropped, so the next use reconnects; one that timed out or got an error reply is kept.
    private func withConnection<T: Sendable>(
        _ spec: MCPServerSpec, _ operation: @Sendable (MCPConnection) async throws -> T
    ) async throws -> T {
        var attempts = 0
        while true {
            attempts += 1
            let connection = try await connection(for: spec)
            do {
                return try await operation(connection)
            } catch ConnectionFailure.requestNotWritten {
                await discard(connection, of: spec)
                if attempts >= 2 { throw MCPError.notConnected }
            } catch let error as MCPError {
                switch error {
                case .serverExited, .notConnected, .http(status: 404):
                    await discard(connection, of: spec)
                default:
                    break
                }
                throw error
            }
        }
    }

    /// The usable connection for `spec`: the live one, the one being opened, or a new one.
    private func connection(for spec: MCPServerSpec) async throws -> MCPConnection {
        guard !isShutDown else { throw MCPError.notConnected }
        switch slots[spec.id] {
        case .ready(let connection) where connection.version == spec.version:
            if await connection.isUsable { return connection }
            await discard(connection, of: spec)
        case .connecting(let version, let task) where version == spec.version:
            return try await task.value
        case .ready(let old):
            await discard(old, of: spec)
        case .connecting(_, let task):
            slots[spec.id] = nil
            if let outdated = try? await task.value { await outdated.close() }
        case nil:
            break
        }
        if case .ready(let current) = slots[spec.id], current.version == spec.version { return current }
        if case .connecting(let version, let task) = slots[spec.id], version == spec.version {
            return try await task.value
        }
        let context = self.context
        let task = Task { try await MCPConnection.open(spec, context: context) }
        slots[spec.id] = .connecting(version: spec.version, task)
        do {
            let connection = try await task.value
            guard !isShutDown else {
                await connection.close()
                throw MCPError.notConnected
            }
            if case .connecting(_, let current) = slots[spec.id], current == task {
                slots[spec.id] = .ready(connection)
            }
            return connection
        } catch {
            if case .connecting(_, let current) = slots[spec.id], current == task { slots[spec.id] = nil }
            throw error
        }
    }

    /// Closes `connection` and forgets it, unless the slot already holds another one.
    private func discard(_ connection: MCPConnection, of spec: MCPServerSpec) async {
        if case .ready(let current) = slots[spec.id], current === connection { slots[spec.id] = nil }
        await connection.close()
    }
}
