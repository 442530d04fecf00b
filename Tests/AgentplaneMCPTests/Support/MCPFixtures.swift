import AgentplaneMCP
import AsyncHTTPClient
import Foundation
import Logging
import Synchronization
import Testing

/// The Python MCP test servers in Tests/Fixtures/mcp and the interpreter that runs them: the same
/// `.venv-oracles` (scripts/install-oracles) and skip rule as the schedule engine's oracle tests.
enum MCPFixtures {
    static let pythonVariable = "AGENTPLANE_ORACLE_PYTHON"
    static let requireVariable = "AGENTPLANE_TEST_REQUIRE_ORACLES"
    static let skipMessage: Comment = """
        no Python with the mcp package (AGENTPLANE_ORACLE_PYTHON or .venv-oracles/): run \
        scripts/install-oracles; AGENTPLANE_TEST_REQUIRE_ORACLES=1 turns this skip into a failure
        """

    /// The package root, found from this file's path.
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `$AGENTPLANE_ORACLE_PYTHON`, else `.venv-oracles/bin/python` when it exists, else nil.
    static var python: String? {
        if let configured = ProcessInfo.processInfo.environment[pythonVariable], !configured.isEmpty {
            return configured
        }
        let venv = packageRoot.appendingPathComponent(".venv-oracles/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
    }

    /// Whether the tests that need the servers run: an interpreter is there, or its absence must fail.
    static var shouldRun: Bool { python != nil || ProcessInfo.processInfo.environment[requireVariable] == "1" }

    /// The interpreter, or a failure naming the fix.
    static func requirePython() throws -> String {
        guard let python else { throw FixtureFailure("\(skipMessage)") }
        return python
    }

    /// A fixture script's absolute path.
    static func script(_ name: String) -> String {
        packageRoot.appendingPathComponent("Tests/Fixtures/mcp/\(name)").path
    }

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
    let process: Process
    let port: Int
    let record: URL
    private let exits: AsyncStream<Int32>

    /// Requests the server saw, one "METHOD SESSION-ID PROTOCOL-VERSION" line each.
    var requests: [String] {
        let text = (try? String(contentsOf: record.appendingPathExtension("requests"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    /// The messages sent through the server, one JSON object each.
    var sentMessages: [String] {
        let text = (try? String(contentsOf: record, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    /// The server's MCP endpoint.
    var url: URL { URL(string: "http://127.0.0.1:\(port)/mcp")! }

    /// Starts the server on a free port and waits (at most `timeout`) for its `LISTENING <port>` line.
    init(jsonResponse: Bool = false, failStatus: Int? = nil, timeout: Duration = .seconds(60)) async throws {
        let python = try MCPFixtures.requirePython()
        let directory = try MCPFixtures.temporaryDirectory()
        record = directory.appendingPathComponent("sent.jsonl")
        var arguments = [MCPFixtures.script("telegram_mcp.py"), "0", "--record", record.path]
        if jsonResponse { arguments.append("--json-response") }
        if let failStatus { arguments += ["--fail-status", "\(failStatus)"] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        let (lines, continuation) = AsyncStream.makeStream(of: String.self)
        let pending = Mutex("")
        stdout.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            guard !data.isEmpty else {
                handle.readabilityHandler = nil
                continuation.finish()
                return
            }
            let complete = pending.withLock { text -> [String] in
                text += String(decoding: data, as: UTF8.self)
                var parts = text.components(separatedBy: "\n")
                text = parts.removeLast()
                return parts
            }
            for line in complete { continuation.yield(line) }
        }
        let (exits, exited) = AsyncStream.makeStream(of: Int32.self)
        process.terminationHandler = { finished in
            exited.yield(finished.terminationStatus)
            exited.finish()
        }
        self.exits = exits
        try process.run()
        self.process = process
        let listening = await firstElement(of: lines, within: timeout) { $0.hasPrefix("LISTENING ") }
        guard let listening, let port = Int(listening.dropFirst("LISTENING ".count)) else {
            process.terminate()
            throw FixtureFailure("telegram-mcp did not print LISTENING within \(timeout)")
        }
        self.port = port
    }

    /// Ends the server and waits (bounded) for it.
    func stop() async {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        _ = await firstElement(of: exits, within: .seconds(10)) { _ in true }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// The first element of `stream` satisfying `predicate`, or nil when the stream ends or `timeout` passes.
func firstElement<Element: Sendable>(
    of stream: AsyncStream<Element>, within timeout: Duration,
    where predicate: @escaping @Sendable (Element) -> Bool
) async -> Element? {
    await withTaskGroup(of: Element?.self) { group in
        group.addTask {
            for await element in stream where predicate(element) { return element }
            return nil
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        return await group.next() ?? nil
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
