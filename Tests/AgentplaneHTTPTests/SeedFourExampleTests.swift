import AgentplaneCore
import AgentplaneServer
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Seed 004's "Create a Morning Briefing Task" replayed against a live server (only the credential changed),
/// then `run_now`: the pipeline calls two real MCP servers written for the tests, weather-mcp over stdio
/// and telegram-mcp over streamable HTTP answering with SSE, and telegram-mcp records the forecast's summary.
@Suite(.enabled(if: MCPTestServers.available, "needs scripts/install-oracles (the mcp package)"))
struct SeedFourExampleTests {
    /// The seed's request body, verbatim (seed 004, "Usage Examples").
    static let morningBriefing = """
        {
            "title": "Morning Briefing",
            "description": "Daily morning briefing with calendar and weather",
            "schedule_kind": "rrule", 
            "schedule_expr": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=8;BYMINUTE=30",
            "timezone": "Europe/Chisinau",
            "payload": {
              "pipeline": [
                {"id": "weather", "uses": "weather-mcp.forecast", "with": {"city": "Chisinau"}, "save_as": "weather"},
                {"id": "notify", "uses": "telegram-mcp.send_message", "with": {"chat_id": 12345, "text": "${steps.weather.summary}"}}
              ]
            },
            "created_by": "00000000-0000-0000-0000-000000000001"
          }
        """

    /// A worker that may start the fixtures' interpreter and reach loopback.
    static func engine() throws -> EngineSettings {
        var settings = EngineSettings()
        settings.allowedOutboundHosts = ["127.0.0.1"]
        settings.mcpStdioAllowList = [try MCPTestServers.requirePython()]
        return settings
    }

    /// Registers the two MCP servers in the tenant of `key` (telegram-mcp's token a secret).
    static func registerServers(_ client: any TestClientProtocol, key: String, telegramPort: Int) async throws {
        let secret = try await client.request(
            .post, "/api/v1/secrets", key: key, json: #"{"name":"TELEGRAM_TOKEN","value":"tg-token-4711"}"#)
        #expect(secret.status == .created, "\(secret.text)")
        let python = try MCPTestServers.requirePython()
        let weather = try await client.request(
            .post, "/api/v1/mcp-servers", key: key,
            json: JSONValue.object([
                "name": "weather-mcp", "transport": "stdio", "command": .string(python),
                "args": .array([.string(MCPTestServers.script("weather_mcp.py"))]),
            ]).jsonText)
        #expect(weather.status == .created, "\(weather.text)")
        let telegram = try await client.request(
            .post, "/api/v1/mcp-servers", key: key,
            json: JSONValue.object([
                "name": "telegram-mcp", "transport": "http", "url": .string("http://127.0.0.1:\(telegramPort)/mcp"),
                "headers": ["Authorization": "Bearer ${secrets.TELEGRAM_TOKEN}"],
            ]).jsonText)
        #expect(telegram.status == .created, "\(telegram.text)")
    }

    @Test(arguments: TestBackend.allCases)
    func theMorningBriefingRunsEndToEnd(backend: TestBackend) async throws {
        try await MCPTestServers.withTelegram { port, record in
            try await withLiveServer(backend, engine: try Self.engine()) { client, _ in
                let tenant = try await TenantFixture.make(client, slug: "briefing")
                try await Self.registerServers(client, key: tenant.adminKey, telegramPort: port)
                let created = try await client.request(
                    .post, "/tasks", key: tenant.adminKey, json: Self.morningBriefing)
                #expect(created.status == .created, "\(created.text)")
                let task = try created.json()
                #expect(task["created_by"] == "00000000-0000-0000-0000-000000000001")
                #expect(task["timezone"] == "Europe/Chisinau")
                #expect(task["priority"] == .int(5))
                #expect(task["max_retries"] == .int(3))
                // Weekdays 08:30 in Chisinau: 05:30 or 06:30 UTC.
                let next = try #require(task["next_run_at"]?.stringValue)
                #expect(next.contains("T05:30:00") || next.contains("T06:30:00"), "\(next)")
                let id = try #require(task["id"]?.stringValue)
                let fired = try await client.request(.post, "/tasks/\(id)/run_now", key: tenant.adminKey)
                #expect(fired.status == .accepted, "\(fired.text)")
                let runID = try #require(try fired.json()["id"]?.stringValue)
                let run = try await client.awaitJSON("/runs/\(runID)", key: tenant.adminKey, timeout: .seconds(90)) {
                    ["succeeded", "dead", "cancelled"].contains($0["status"]?.stringValue ?? "")
                }
                #expect(run["status"] == "succeeded", "\(run)")
                #expect(run["task_id"] == .string(id))
                let steps = try #require(run["steps"]?.arrayValue)
                #expect(steps.map { $0["step_id"] } == ["weather", "notify"])
                let summary = try #require(steps.first?["output"]?["summary"]?.stringValue)
                #expect(summary.contains("Chisinau"))
                #expect(steps.last?["input"]?["text"] == .string(summary))
                let lines = MCPTestServers.recorded(record)
                #expect(lines.count == 1)
                let message = try #require(lines.first.flatMap { JSONValue(parsing: $0) })
                #expect(message["text"] == .string(summary))
                #expect(message["chat_id"] == .int(12345))
                // The run shows in the task's history through the seed's alias too.
                let history = try await client.request(.get, "/runs?task_id=\(id)", key: tenant.adminKey).json()
                #expect(history["runs"]?.arrayValue?.map { $0["id"] } == [.string(runID)])
            }
        }
    }
}
