import AgentplaneMCP
import AgentplaneTesting
import AsyncHTTPClient
import Foundation
import Logging
import Synchronization
import Testing

/// The Python MCP test servers in Tests/Fixtures/mcp and the interpreter that runs them: the same
/// `.venv-oracles` (scripts/install-oracles) and skip rule as the schedule engine's oracle tests.
enum MCPFixtures {
    static let skipMessage: Comment = """
        no Python with the mcp package (AGENTPLANE_ORACLE_PYTHON or .venv-oracles/): run \
        scripts/install-oracles; AGENTPLANE_TEST_REQUIRE_ORACLES=1 turns this skip into a failure
        """

    /// The interpreter (`MCPTestServers` finds it, as for every test target).
    static var python: String? { MCPTestServers.python }

    /// Whether the tests that need the servers run: an interpreter is there, or its absence must fail.
    static var shouldRun: Bool { MCPTestServers.available }

    /// The interpreter, or a failure naming the fix.
    static func requirePython() throws -> String { try MCPTestServers.requirePython() }

    /// A fixture script's absolute path.
    static func script(_ name: String) -> String { MCPTestServers.script(name) }

    /// The weather-mcp stdio server's spec.
    static func weatherSpec(version: Int64 = 1, id: UUID = UUID()) throws -> MCPServerSpec {
        MCPServerSpec(
            id: id, version: version, name: "weather-mcp",
            transport: .stdio(command: try requirePython(), arguments: [script("weather_mcp.py")], environment: [:]))
    }

    /// A pool that allows exactly the fixtures' interpreter, recording the URLs its outbound check saw.
    static func pool(checkedURLs: URLLog = URLLog()) -> MCPConnectionPool {
        MCPConnectionPool(
            stdioAllowList: Set([python].compactMap { $0 }), httpClient: .shared,
            outboundCheck: { url in checkedURLs.append(url) }, logger: Logger(label: "mcp-tests"),
            connectTimeout: .seconds(60))
    }

    /// A fresh temporary directory.
    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mcp-tests-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }
}

/// A test-setup failure with its explanation.
struct FixtureFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The URLs an outbound check was asked about.
final class URLLog: Sendable {
    private let urls = Mutex<[URL]>([])
    func append(_ url: URL) { urls.withLock { $0.append(url) } }
    var all: [URL] { urls.withLock { $0 } }
}

/// A running telegram-mcp (streamable HTTP) server; `stop()` ends it.
final class TelegramServer: Sendable {
    let process: AgentplaneProcess
    let port: Int
    let record: URL

    /// Requests the server saw, one "METHOD SESSION-ID PROTOCOL-VERSION" line each.
    var requests: [String] { MCPTestServers.recorded(record.appendingPathExtension("requests")) }

    /// The messages sent through the server, one JSON object each.
    var sentMessages: [String] { MCPTestServers.recorded(record) }

    /// The server's MCP endpoint.
    var url: URL { URL(string: "http://127.0.0.1:\(port)/mcp")! }

    /// Starts the server on a free port and waits (at most `timeout`) for its `LISTENING <port>` line.
    init(jsonResponse: Bool = false, failStatus: Int? = nil, timeout: Duration = .seconds(60)) async throws {
        let directory = try MCPFixtures.temporaryDirectory()
        record = directory.appendingPathComponent("sent.jsonl")
        var arguments = [MCPFixtures.script("telegram_mcp.py"), "0", "--record", record.path]
        if jsonResponse { arguments.append("--json-response") }
        if let failStatus { arguments += ["--fail-status", "\(failStatus)"] }
        process = try AgentplaneProcess(executable: try MCPFixtures.requirePython(), arguments)
        let listening = await process.firstLine(within: timeout) { $0.hasPrefix("LISTENING ") }
        guard let listening, let port = Int(listening.dropFirst("LISTENING ".count)) else {
            process.signal(SIGKILL)
            throw FixtureFailure("telegram-mcp did not print LISTENING within \(timeout)")
        }
        self.port = port
    }

    /// Ends the server and waits (bounded) for it.
    func stop() async {
        process.signal(SIGKILL)
        _ = await process.waitForExit(within: .seconds(10))
    }
}

/// Whether a process with this id exists (`kill(pid, 0)` succeeds).
func processExists(_ pid: Int32) -> Bool {
    kill(pid, 0) == 0
}

/// Blocks until the child `pid` of this process is stopped (a kernel wait, WNOWAIT: its state stays
/// for Foundation's own reaping).
func waitUntilStopped(_ pid: Int32) throws {
    var info = siginfo_t()
    guard waitid(P_PID, id_t(pid), &info, WSTOPPED | WNOWAIT) == 0 else {
        throw FixtureFailure("waitid(\(pid)) failed: errno \(errno)")
    }
}
