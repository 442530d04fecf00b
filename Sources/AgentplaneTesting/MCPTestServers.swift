import Foundation

/// The Python MCP test servers of `Tests/Fixtures/mcp` (weather-mcp over stdio, telegram-mcp over streamable
/// HTTP) and the interpreter that runs them: `.venv-oracles` (scripts/install-oracles), or
/// `AGENTPLANE_ORACLE_PYTHON`. Without it the tests that need them are skipped, unless
/// `AGENTPLANE_TEST_REQUIRE_ORACLES=1` (scripts/test sets it) makes that a failure.
public enum MCPTestServers {
    /// The package root.
    public static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    /// The interpreter with the `mcp` package, if there is one.
    public static var python: String? {
        if let configured = ProcessInfo.processInfo.environment["AGENTPLANE_ORACLE_PYTHON"], !configured.isEmpty {
            return configured
        }
        let venv = packageRoot.appendingPathComponent(".venv-oracles/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
    }

    /// Whether tests needing the servers run (an interpreter is there, or its absence must fail them).
    public static var available: Bool {
        python != nil || ProcessInfo.processInfo.environment["AGENTPLANE_TEST_REQUIRE_ORACLES"] == "1"
    }

    /// The interpreter, or an error naming the fix.
    public static func requirePython() throws -> String {
        guard let python else {
            throw TestEnvironmentError(
                "no Python with the mcp package (.venv-oracles/ or AGENTPLANE_ORACLE_PYTHON): run scripts/install-oracles"
            )
        }
        return python
    }

    /// A fixture script's absolute path.
    public static func script(_ name: String) -> String {
        packageRoot.appendingPathComponent("Tests/Fixtures/mcp/\(name)").path
    }

    /// Runs telegram-mcp (streamable HTTP, SSE replies unless `jsonResponse`) on a free loopback port for
    /// the duration of `body`, which gets its port and the file its `send_message` calls are recorded in.
    public static func withTelegram<T: Sendable>(
        jsonResponse: Bool = false, _ body: (Int, URL) async throws -> T
    ) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("telegram-mcp-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let record = directory.appendingPathComponent("messages.jsonl")
        var arguments = [script("telegram_mcp.py"), "0", "--record", record.path]
        if jsonResponse { arguments.append("--json-response") }
        let server = try AgentplaneProcess(executable: try requirePython(), arguments)
        guard let line = await server.firstLine(within: .seconds(60), where: { $0.hasPrefix("LISTENING ") }),
            let port = Int(line.dropFirst("LISTENING ".count).trimmingCharacters(in: .whitespaces))
        else {
            server.signal(SIGKILL)
            _ = await server.waitForExit()
            throw TestEnvironmentError("telegram-mcp did not start: \(server.outputText)")
        }
        do {
            let result = try await body(port, record)
            server.signal()
            _ = await server.waitForExit(within: .seconds(10))
            return result
        } catch {
            server.signal(SIGKILL)
            _ = await server.waitForExit()
            throw error
        }
    }

    /// The JSON lines recorded in `file` (empty when there is none yet).
    public static func recorded(_ file: URL) -> [String] {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map(String.init)
    }
}
