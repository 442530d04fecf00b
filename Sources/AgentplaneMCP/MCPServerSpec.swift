import Foundation

/// An MCP server the operator configured: how to reach it, and the version that identifies its settings.
public struct MCPServerSpec: Sendable, Hashable {
    /// The server's identity; the pool keeps one connection per id.
    public var id: UUID
    /// Bumped whenever the settings change; a new version replaces the live connection.
    public var version: Int64
    /// The name shown to people and agents.
    public var name: String
    /// How to reach the server.
    public var transport: MCPTransportSpec

    /// A spec from its parts.
    public init(id: UUID, version: Int64, name: String, transport: MCPTransportSpec) {
        self.id = id
        self.version = version
        self.name = name
        self.transport = transport
    }
}

/// How an MCP server is reached.
public enum MCPTransportSpec: Sendable, Hashable {
    /// A child process speaking JSON-RPC lines on stdin/stdout; `command` is an absolute path from the
    /// operator's allow-list, `environment` is all the child gets besides PATH, HOME and LANG.
    case stdio(command: String, arguments: [String], environment: [String: String])
    /// A streamable-HTTP endpoint; `headers` (credentials, often) go with every request.
    case http(url: URL, headers: [String: String])
}
