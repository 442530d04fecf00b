import AgentplaneCore
import AgentplaneServer
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Secrets (write-only, sealed at rest, masked in step logs) and MCP server registration (the operator's
/// stdio allow-list, the SSRF guard, tools listed from the server), through a live server.
@Suite struct ToolsAPITests {
    @Test(arguments: TestBackend.allCases)
    func secretsAreWriteOnlySealedAndMaskedInStepLogs(backend: TestBackend) async throws {
        var engine = EngineSettings()
        engine.allowedOutboundHosts = []
        try await withLiveServer(backend, engine: engine) { client, database in
            let tenant = try await TenantFixture.make(client, slug: "vault")
            let value = "sk-live-\(UUID().uuidString)"
            let created = try await client.request(
                .post, "/api/v1/secrets", key: tenant.adminKey, json: #"{"name":"API_KEY","value":"\#(value)"}"#)
            #expect(created.status == .created, "\(created.text)")
            #expect(!created.text.contains(value))
            let again = try await client.request(
                .post, "/api/v1/secrets", key: tenant.adminKey, json: #"{"name":"API_KEY","value":"x"}"#)
            #expect(again.status == .conflict)
            for bad in [
                #"{"name":"9LIVES","value":"x"}"#, #"{"name":"A-B","value":"x"}"#, #"{"name":"OK","value":""}"#,
            ] {
                let refused = try await client.request(.post, "/api/v1/secrets", key: tenant.adminKey, json: bad)
                #expect(refused.status == .unprocessableContent, "\(bad): \(refused.text)")
            }
            let list = try await client.request(.get, "/api/v1/secrets", key: tenant.adminKey)
            #expect(!list.text.contains(value))
            #expect(try list.json()["secrets"]?.arrayValue?.map { $0["name"] } == ["API_KEY"])
            let one = try await client.request(.get, "/api/v1/secrets/API_KEY", key: tenant.adminKey)
            #expect(one.status == .ok)
            #expect(!one.text.contains(value))
            // Sealed at rest: the database never holds the value.
            #expect(try await database.rawText(table: "secrets").contains(value) == false)
            // The key file is private.
            let keyFile = (database.directory as NSString).appendingPathComponent("secrets.key")
            let mode = try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            // A pipeline sees the value; its step log does not.
            let task = try await client.request(
                .post, "/api/v1/tasks", key: tenant.adminKey,
                json: #"""
                    {"title":"uses a secret","schedule_kind":"cron","schedule_expr":"0 0 1 1 *","payload":{"pipeline":[
                      {"id":"say","uses":"log","with":{"message":"key=${secrets.API_KEY};","raw":"${secrets.API_KEY}"}}]}}
                    """#)
            #expect(task.status == .created, "\(task.text)")
            let taskID = try #require(try task.json()["id"]?.stringValue)
            let run = try await client.request(.post, "/api/v1/tasks/\(taskID)/run_now", key: tenant.adminKey)
            let runID = try #require(try run.json()["id"]?.stringValue)
            let done = try await client.awaitJSON("/api/v1/runs/\(runID)", key: tenant.adminKey) {
                $0["status"] == "succeeded" || $0["status"] == "dead"
            }
            #expect(done["status"] == "succeeded", "\(done)")
            #expect(done["steps"]?.arrayValue?.first?["input"]?["message"] == "key=***;")
            #expect(done["steps"]?.arrayValue?.first?["input"]?["raw"] == "***")
            #expect(done["steps"]?.arrayValue?.first?["output"]?["logged"] == "key=***;")
            #expect(!done.jsonText.contains(value))
            let deleted = try await client.request(.delete, "/api/v1/secrets/API_KEY", key: tenant.adminKey)
            #expect(deleted.status == .noContent)
            #expect(try await client.request(.get, "/api/v1/secrets/API_KEY", key: tenant.adminKey).status == .notFound)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func mcpServersNeedTheOperatorsAllowListAndPublicURLs(backend: TestBackend) async throws {
        var engine = EngineSettings.noWorker
        engine.mcpStdioAllowList = ["/usr/local/bin/allowed-mcp"]
        try await withLiveServer(backend, engine: engine) { client, _ in
            let tenant = try await TenantFixture.make(client, slug: "tools")
            let refused: [(String, String)] = [
                (#"{"name":"sh","transport":"stdio","command":"/bin/sh","args":["-c","id"]}"#, "/command"),
                (#"{"name":"rel","transport":"stdio","command":"allowed-mcp"}"#, "/command"),
                (#"{"name":"nocmd","transport":"stdio"}"#, "/command"),
                (#"{"name":"local","transport":"http","url":"http://127.0.0.1:9/mcp"}"#, "/url"),
                (#"{"name":"meta","transport":"http","url":"http://169.254.169.254/mcp"}"#, "/url"),
                (#"{"name":"ftp","transport":"http","url":"ftp://example.com/mcp"}"#, "/url"),
                (#"{"name":"http","transport":"http","url":"https://example.com/mcp"}"#, "/name"),
                (#"{"name":"bad name","transport":"http","url":"https://example.com/mcp"}"#, "/name"),
                (
                    #"{"name":"leak","transport":"http","url":"https://example.com/mcp","headers":{"X":"${env.HOME}"}}"#,
                    "/headers/X"
                ),
            ]
            for (body, pointer) in refused {
                let response = try await client.request(.post, "/api/v1/mcp-servers", key: tenant.adminKey, json: body)
                #expect(response.status == .unprocessableContent, "\(body): \(response.text)")
                let pointers = try response.json()["errors"]?.arrayValue?.compactMap { $0["pointer"]?.stringValue }
                #expect(pointers?.contains(pointer) == true, "\(body): \(response.text)")
            }
            let none = try await client.request(.get, "/api/v1/mcp-servers", key: tenant.adminKey).json()
            #expect(none["mcp_servers"]?.arrayValue?.isEmpty == true)
            let allowed = try await client.request(
                .post, "/api/v1/mcp-servers", key: tenant.adminKey,
                json:
                    #"{"name":"fs","transport":"stdio","command":"/usr/local/bin/allowed-mcp","env":{"T":"${secrets.X}"}}"#
            )
            #expect(allowed.status == .created, "\(allowed.text)")
            let id = try #require(try allowed.json()["id"]?.stringValue)
            let duplicate = try await client.request(
                .post, "/api/v1/mcp-servers", key: tenant.adminKey,
                json: #"{"name":"fs","transport":"stdio","command":"/usr/local/bin/allowed-mcp"}"#)
            #expect(duplicate.status == .conflict)
            // The program does not exist: listing its tools is a 502 naming why, not a 500.
            let tools = try await client.request(.get, "/api/v1/mcp-servers/\(id)/tools", key: tenant.adminKey)
            #expect(tools.status == .badGateway, "\(tools.text)")
            let other = try await TenantFixture.make(client, slug: "other")
            #expect(
                try await client.request(.get, "/api/v1/mcp-servers/\(id)", key: other.adminKey).status == .notFound)
            #expect(
                try await client.request(.delete, "/api/v1/mcp-servers/\(id)", key: other.adminKey).status == .notFound)
        }
    }

    @Test(.enabled(if: MCPTestServers.available), arguments: TestBackend.allCases)
    func toolsAreListedAndStepsCheckedAgainstTheirSchemas(backend: TestBackend) async throws {
        try await withLiveServer(backend, engine: try SeedFourExampleTests.engine()) { client, _ in
            let tenant = try await TenantFixture.make(client, slug: "schemas")
            let python = try MCPTestServers.requirePython()
            let created = try await client.request(
                .post, "/api/v1/mcp-servers", key: tenant.adminKey,
                json: JSONValue.object([
                    "name": "weather-mcp", "transport": "stdio", "command": .string(python),
                    "args": .array([.string(MCPTestServers.script("weather_mcp.py"))]),
                ]).jsonText)
            let id = try #require(try created.json()["id"]?.stringValue)
            let tools = try await client.request(.get, "/api/v1/mcp-servers/\(id)/tools", key: tenant.adminKey).json()
            let forecast = try #require(tools["tools"]?.arrayValue?.first { $0["name"] == "forecast" })
            #expect(forecast["input_schema"]?["required"] == .array(["city"]))
            let bad = try await client.request(
                .post, "/api/v1/tasks", key: tenant.adminKey,
                json: #"""
                    {"title":"t","schedule_kind":"cron","schedule_expr":"0 8 * * *","payload":{"pipeline":[
                      {"id":"w","uses":"weather-mcp.forecast","with":{"city":5}},
                      {"id":"x","uses":"weather-mcp.nope"},
                      {"id":"y","uses":"nobody.tool"}]}}
                    """#)
            #expect(bad.status == .unprocessableContent)
            let pointers = try bad.json()["errors"]?.arrayValue?.compactMap { $0["pointer"]?.stringValue } ?? []
            #expect(
                Set(pointers) == [
                    "/payload/pipeline/0/with/city", "/payload/pipeline/1/uses", "/payload/pipeline/2/uses",
                ])
            let none = try await client.request(.get, "/api/v1/tasks", key: tenant.adminKey).json()
            #expect(none["tasks"]?.arrayValue?.isEmpty == true)
            // A template is checked once rendered, at run time.
            let templated = try await client.request(
                .post, "/api/v1/tasks", key: tenant.adminKey,
                json: #"""
                    {"title":"t","schedule_kind":"cron","schedule_expr":"0 8 * * *","payload":{"pipeline":[
                      {"id":"w","uses":"weather-mcp.forecast","with":{"city":"${task.title}"}}]}}
                    """#)
            #expect(templated.status == .created, "\(templated.text)")
        }
    }
}
