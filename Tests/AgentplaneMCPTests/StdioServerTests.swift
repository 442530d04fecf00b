import AgentplaneCore
import Foundation
import Testing

@testable import AgentplaneMCP

/// The pool against weather-mcp, a real Python stdio server (Tests/Fixtures/mcp/weather_mcp.py).
@Suite(.enabled(if: MCPFixtures.shouldRun, MCPFixtures.skipMessage), .timeLimit(.minutes(3)))
struct StdioServerTests {
    /// The weather server's pid, from its `pid` tool.
    static func serverPID(_ pool: MCPConnectionPool, _ spec: MCPServerSpec) async throws -> Int32 {
        let result = try await pool.call(spec, tool: "pid", arguments: [:], timeout: .seconds(30))
        let value = result.output["result"] ?? result.output
        guard case .int(let pid) = value else { throw FixtureFailure("pid tool answered \(result.output)") }
        return Int32(pid)
    }

    @Test func listsToolsAndCallsForecast() async throws {
        let pool = MCPFixtures.pool()
        let spec = try MCPFixtures.weatherSpec()

        let tools = try await pool.tools(spec)
        let forecast = try #require(tools.first { $0.name == "forecast" })
        #expect(forecast.description?.contains("forecast") == true)
        #expect(forecast.inputSchema["properties"]?["city"] != nil)
        #expect(Set(tools.map(\.name)).isSuperset(of: ["forecast", "slow", "fail", "pid"]))

        let result = try await pool.call(spec, tool: "forecast", arguments: ["city": "Oslo"], timeout: .seconds(30))
        #expect(!result.isError)
        #expect(result.output["city"] == "Oslo")
        #expect(result.output["summary"]?.stringValue?.contains("Oslo") == true)
        #expect(result.output["temperature_c"] != nil)
        #expect(result.structured == result.output)
        #expect(result.content.first?["type"] == "text")
        await pool.shutdown()
    }

    @Test func refusesACommandNotAllowListedWithoutStartingIt() async throws {
        let pool = MCPFixtures.pool()
        let directory = try MCPFixtures.temporaryDirectory()
        let marker = directory.appendingPathComponent("started")
        let spec = MCPServerSpec(
            id: UUID(), version: 1, name: "sneaky",
            transport: .stdio(command: "/bin/sh", arguments: ["-c", "touch \(marker.path)"], environment: [:]))
        await #expect(throws: MCPError.commandNotAllowed(command: "/bin/sh")) { try await pool.tools(spec) }
        #expect(await pool.processID(of: spec) == nil)
        // The refusal comes before any spawn, so a started shell would have had its chance by now.
        #expect(!FileManager.default.fileExists(atPath: marker.path))
        await pool.shutdown()
    }

    @Test func refusesARelativeCommandEvenWhenAllowListedAsWritten() async throws {
        let pool = MCPConnectionPool(
            stdioAllowList: ["python3"], httpClient: .shared, outboundCheck: { _ in },
            logger: .init(label: "mcp-tests"))
        let spec = MCPServerSpec(
            id: UUID(), version: 1, name: "relative",
            transport: .stdio(command: "python3", arguments: ["-c", "pass"], environment: [:]))
        await #expect(throws: MCPError.commandNotAllowed(command: "python3")) { try await pool.tools(spec) }
        await pool.shutdown()
    }

    @Test func reportsAToolErrorAsAResult() async throws {
        let pool = MCPFixtures.pool()
        let spec = try MCPFixtures.weatherSpec()
        let result = try await pool.call(
            spec, tool: "fail", arguments: ["reason": "no such city"], timeout: .seconds(30))
        #expect(result.isError)
        #expect(result.output["text"]?.stringValue?.contains("no such city") == true)
        await #expect(throws: MCPError.unknownTool("rain")) {
            try await pool.call(spec, tool: "rain", arguments: [:], timeout: .seconds(30))
        }
        await pool.shutdown()
    }

    @Test func reusesTheChildAndRestartsItAfterKill9() async throws {
        let pool = MCPFixtures.pool()
        let spec = try MCPFixtures.weatherSpec()
        let first = try await Self.serverPID(pool, spec)
        #expect(try await Self.serverPID(pool, spec) == first)
        #expect(await pool.processID(of: spec) == first)

        #expect(kill(first, SIGKILL) == 0)
        #expect(await pool.waitForProcessExit(of: spec, within: .seconds(30)) == SIGKILL)
        let second = try await Self.serverPID(pool, spec)
        #expect(second != first)
        #expect(!processExists(first))
        let result = try await pool.call(spec, tool: "forecast", arguments: ["city": "Lima"], timeout: .seconds(30))
        #expect(result.output["city"] == "Lima")
        #expect(try await Self.serverPID(pool, spec) == second)
        await pool.shutdown()
    }

    /// The child is stopped first, so it cannot read the request whatever the order of write and kill: the
    /// write lands in the dead child's pipe (unread), fails with EPIPE, or follows the observed death.
    @Test func aCallThatTheKilledChildNeverReadIsRetriedOnANewChild() async throws {
        let pool = MCPFixtures.pool()
        let spec = try MCPFixtures.weatherSpec()
        let first = try await Self.serverPID(pool, spec)
        #expect(kill(first, SIGSTOP) == 0)
        try waitUntilStopped(first)
        async let call = pool.call(spec, tool: "forecast", arguments: ["city": "Quito"], timeout: .seconds(30))
        #expect(kill(first, SIGKILL) == 0)
        let result = try await call
        #expect(result.output["city"] == "Quito")
        #expect(try await Self.serverPID(pool, spec) != first)
        await pool.shutdown()
    }

    @Test func concurrentFirstUsesShareOneChild() async throws {
        let pool = MCPFixtures.pool()
        let spec = try MCPFixtures.weatherSpec()
        let pids = try await withThrowingTaskGroup(of: Int32.self) { group in
            for _ in 0..<5 { group.addTask { try await Self.serverPID(pool, spec) } }
            return try await group.reduce(into: Set<Int32>()) { $0.insert($1) }
        }
        #expect(pids.count == 1)
        await pool.shutdown()
    }

    @Test func aNewSpecVersionReplacesTheChild() async throws {
        let pool = MCPFixtures.pool()
        var spec = try MCPFixtures.weatherSpec(version: 1)
        let old = try await Self.serverPID(pool, spec)
        spec.version = 2
        let new = try await Self.serverPID(pool, spec)
        #expect(new != old)
        #expect(!processExists(old))
        await pool.shutdown()
    }

    @Test func shutdownLeavesNoChildAlive() async throws {
        let pool = MCPFixtures.pool()
        let specs = [try MCPFixtures.weatherSpec(), try MCPFixtures.weatherSpec()]
        var pids: [Int32] = []
        for spec in specs { pids.append(try await Self.serverPID(pool, spec)) }
        #expect(Set(pids).count == 2)
        await pool.shutdown()
        for pid in pids {
            #expect(kill(pid, 0) == -1 && errno == ESRCH, "pid \(pid) is still there")
        }
        await #expect(throws: MCPError.notConnected) { try await pool.tools(try MCPFixtures.weatherSpec()) }
    }

    @Test func aTimedOutCallLeavesTheConnectionUsable() async throws {
        let pool = MCPFixtures.pool()
        let spec = try MCPFixtures.weatherSpec()
        let pid = try await Self.serverPID(pool, spec)
        await #expect(throws: MCPError.timeout) {
            try await pool.call(spec, tool: "slow", arguments: ["seconds": .double(30)], timeout: .milliseconds(300))
        }
        let result = try await pool.call(spec, tool: "forecast", arguments: ["city": "Rome"], timeout: .seconds(30))
        #expect(result.output["city"] == "Rome")
        #expect(try await Self.serverPID(pool, spec) == pid)
        await pool.shutdown()
    }

    @Test func aServerThatExitsAtOnceReportsItsStatusAndStderr() async throws {
        let pool = MCPFixtures.pool()
        let python = try MCPFixtures.requirePython()
        let spec = MCPServerSpec(
            id: UUID(), version: 1, name: "crashing",
            transport: .stdio(
                command: python, arguments: ["-c", "import sys; sys.stderr.write('boom: bad config\\n'); sys.exit(3)"],
                environment: [:]))
        do {
            _ = try await pool.tools(spec)
            Issue.record("a server that exits cannot list tools")
        } catch let error as MCPError {
            #expect(error == .serverExited(status: 3, stderrTail: "boom: bad config\n"), "\(error)")
        }
        await pool.shutdown()
    }
}
