import Foundation

/// Why an MCP operation failed. Descriptions never carry header or environment values (they may hold
/// secrets): only the command, the tool name, the HTTP status and the server's own stderr tail.
public enum MCPError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The stdio command is not exactly one of the operator's allow-listed absolute paths.
    case commandNotAllowed(command: String)
    /// The server has no tool of that name.
    case unknownTool(String)
    /// The stdio server's process ended; the last lines it wrote to stderr explain why, often.
    case serverExited(status: Int32, stderrTail: String)
    /// The HTTP server answered with this error status.
    case http(status: Int)
    /// No reply within the time limit.
    case timeout
    /// The server broke the protocol, or answered a request with a JSON-RPC error.
    case protocolError(String)
    /// There is no live connection (the pool was shut down, or the connection was closed).
    case notConnected

    /// A one-line explanation, safe to show to an operator.
    public var description: String {
        switch self {
        case .commandNotAllowed(let command):
            return "MCP server command '\(command)' is not in the stdio allow-list (absolute paths only)"
        case .unknownTool(let name):
            return "the MCP server has no tool '\(name)'"
        case .serverExited(let status, let stderrTail):
            let tail = stderrTail.trimmingCharacters(in: .whitespacesAndNewlines)
            return "the MCP server process exited (status \(status))" + (tail.isEmpty ? "" : ": \(tail)")
        case .http(let status):
            return "the MCP server answered HTTP \(status)"
        case .timeout:
            return "the MCP server did not answer in time"
        case .protocolError(let message):
            return "MCP protocol error: \(message)"
        case .notConnected:
            return "not connected to the MCP server"
        }
    }
}
