import AgentplaneCore
import AgentplaneServer
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Tenant A's credentials against tenant B's resources, for every tenant-scoped operation of the
/// contract: generated from `/openapi.json`, so a new endpoint is covered (or fails here) at once.
@Suite struct CrossTenantTests {
    @Test(arguments: TestBackend.allCases)
    func tenantACannotReadListChangeOrDeleteTenantB(backend: TestBackend) async throws {
        try await withLiveServer(backend, engine: Self.engine) { client, _ in
            let a = try await TenantFixture.make(client, slug: "tenant-a")
            let b = try await TenantFixture.make(client, slug: "tenant-b")
            _ = try await client.request(.post, "/api/v1/events", key: b.adminKey, json: #"{"type":"secret.b"}"#)
            // A catalog agent hidden from tenants (inactive): platform-owned, not B's, but A must not see it.
            let hidden = try await client.request(
                .post,
                "/api/v1/agents",
                json: #"{"type":"hidden","name":"Hidden","category":"x","is_active":false}"#
            )
            let hiddenAgent = try #require(try hidden.json()["id"]?.stringValue)
            let active = try await client.request(
                .post,
                "/api/v1/agents",
                json: #"{"type":"visible","name":"Visible","category":"x"}"#
            )
            let activeAgent = try #require(try active.json()["id"]?.stringValue)
            let instance = try await client.request(
                .post,
                "/api/v1/instances",
                key: b.adminKey,
                json: #"{"agent_id":"\#(activeAgent)","name":"B's instance"}"#
            )
            let bInstance = try #require(try instance.json()["id"]?.stringValue)
            let entry = try await client.request(
                .post,
                "/api/v1/instances/\(bInstance)/knowledge-base/entries",
                key: b.adminKey,
                json: #"{"content":"B's confidential refund policy"}"#
            )
            let bEntry = try #require(try entry.json()["id"]?.stringValue)
            // B's instance's provisioning run (queued: this server runs no worker).
            let runs = try await client.request(.get, "/api/v1/runs?instance_id=\(bInstance)", key: b.adminKey).json()
            let bRun = try #require(runs["runs"]?.arrayValue?.first?["id"]?.stringValue)
            // B's task (active, so every task operation would apply to it).
            let task = try await client.request(
                .post, "/api/v1/tasks", key: b.adminKey,
                json:
                    #"{"title":"B's payroll task","schedule_kind":"cron","schedule_expr":"0 9 * * *","payload":{"pipeline":[{"id":"a","uses":"log","with":{}}]}}"#
            )
            #expect(task.status == .created, "\(task.text)")
            let bTask = try #require(try task.json()["id"]?.stringValue)
            // B's secret and MCP server.
            let secret = try await client.request(
                .post, "/api/v1/secrets", key: b.adminKey, json: #"{"name":"B_PAYROLL_TOKEN","value":"b-token-value"}"#)
            #expect(secret.status == .created, "\(secret.text)")
            let server = try await client.request(
                .post, "/api/v1/mcp-servers", key: b.adminKey,
                json: #"{"name":"b-payroll-mcp","transport":"stdio","command":"\#(Self.stdioCommand)"}"#)
            #expect(server.status == .created, "\(server.text)")
            let bServer = try #require(try server.json()["id"]?.stringValue)
            // B's named consumer and command (accepted: this server runs no worker).
            let consumer = try await client.request(
                .post, "/api/v1/consumers", key: b.adminKey, json: #"{"name":"b-payroll-feed","start_at":"beginning"}"#)
            #expect(consumer.status == .created, "\(consumer.text)")
            let command = try await client.request(
                .post, "/api/v1/commands", key: b.adminKey,
                json: #"{"action":"delete_instance","data":{"instance_id":"\#(bInstance)"},"request_id":"b-payroll-1"}"#
            )
            #expect(command.status == .accepted, "\(command.text)")
            let bCommand = try #require(try command.json()["id"]?.stringValue)
            // B's webhook and its (test) delivery, to a loopback port that refuses: the delivery is dead.
            let webhook = try await client.request(
                .post, "/api/v1/webhooks", key: b.adminKey, json: #"{"url":"http://127.0.0.1:9/b-payroll-hook"}"#)
            #expect(webhook.status == .created, "\(webhook.text)")
            let bWebhook = try #require(try webhook.json()["webhook"]?["id"]?.stringValue)
            let tested = try await client.request(.post, "/api/v1/webhooks/\(bWebhook)/test", key: b.adminKey)
            let bDelivery = try #require(try tested.json()["id"]?.stringValue, "\(tested.text)")
            // The ids of B's resources, by path parameter name.
            let bResources = [
                "instance_id": bInstance, "entry_id": bEntry, "run_id": bRun, "task_id": bTask,
                "secret_name": "B_PAYROLL_TOKEN", "server_id": bServer, "consumer_name": "b-payroll-feed",
                "command_id": bCommand, "webhook_id": bWebhook, "delivery_id": bDelivery,
                "tenant_id": b.id, "account_id": b.adminAccountID, "key_id": b.adminKeyID, "agent_id": hiddenAgent,
            ]
            let document = try await client.request(.get, "/openapi.json", key: nil).json()
            var checked = 0
            for (path, item) in try #require(document["paths"]?.objectValue) where path.hasPrefix("/api/v1/") {
                for method in ["get", "post", "put", "patch", "delete"] {
                    guard let operation = item[method], operation["security"] != .array([]) else { continue }
                    let id = operation["operationId"]?.stringValue ?? "\(method) \(path)"
                    let platformOnly = operation["x-platform-admin"] == .bool(true)
                    var uri = path
                    for name in Self.pathParameters(path) {
                        let value = try #require(bResources[name], "add B's \(name) to the fixture for \(id)")
                        uri = uri.replacingOccurrences(of: "{\(name)}", with: value)
                    }
                    let takesTenantHeader = Self.parameterNames(operation, in: document).contains("X-Tenant-ID")
                    let response = try await client.request(
                        HTTPRequest.Method(method.uppercased())!,
                        method == "get" ? uri + (Self.queries[id] ?? "?q=x") : uri,
                        key: a.adminKey,
                        // A body and query that pass validation, so the tenant check is what answers.
                        json: method == "get" || method == "delete" ? nil : Self.bodies[id] ?? Self.body,
                        headers: takesTenantHeader ? [.tenantID: b.id] : [:]
                    )
                    // `instance` echoes the caller's own request path; everything else must not mention B.
                    var answer = (try? response.json()) ?? .string(response.text)
                    if case .object(var members) = answer {
                        members["instance"] = nil
                        answer = .object(members)
                    }
                    let body = String(decoding: try JSONEncoder().encode(answer), as: UTF8.self)
                    if platformOnly {
                        #expect(response.status == .forbidden, "\(id)")
                    } else if uri != path || takesTenantHeader {
                        #expect(response.status == .notFound, "\(id): \(response.status)")
                    } else {
                        #expect(response.status.code < 300, "\(id): \(response.status)")
                    }
                    for secret in [
                        b.id, b.adminAccountID, b.adminKeyID, "secret.b", bInstance, "B's instance", bEntry,
                        "confidential", bRun, bTask, "payroll", "b-token-value", bServer, bCommand, bWebhook,
                        bDelivery,
                    ] {
                        #expect(!body.contains(secret), "\(id) leaks \(secret)")
                    }
                    checked += 1
                }
            }
            #expect(checked >= 13)
            // B is untouched: its key works and its account and event are still there.
            #expect(
                try await client.request(.get, "/api/v1/service-accounts/\(b.adminAccountID)", key: b.adminKey).status
                    == .ok)
            let bEvents = try await client.request(.get, "/api/v1/events?type=secret.b", key: b.adminKey).json()
            #expect(bEvents["events"]?.arrayValue?.count == 1)
            let aEvents = try await client.request(.get, "/api/v1/events?type=secret.b", key: a.adminKey).json()
            #expect(aEvents["events"]?.arrayValue?.isEmpty == true)
            // B's task is unchanged and never ran.
            let bTaskNow = try await client.request(.get, "/api/v1/tasks/\(bTask)", key: b.adminKey).json()
            #expect(bTaskNow["status"] == "active" && bTaskNow["version"] == .int(1))
            let bTaskRuns = try await client.request(.get, "/api/v1/runs?task_id=\(bTask)", key: b.adminKey).json()
            #expect(bTaskRuns["runs"]?.arrayValue?.isEmpty == true)
            // B's secret and server are unchanged.
            let bSecret = try await client.request(.get, "/api/v1/secrets/B_PAYROLL_TOKEN", key: b.adminKey).json()
            #expect(bSecret["version"] == .int(1))
            let bServerNow = try await client.request(.get, "/api/v1/mcp-servers/\(bServer)", key: b.adminKey).json()
            #expect(bServerNow["version"] == .int(1))
            // B's webhook kept its version and its one (dead) test delivery: nothing was replayed or rotated.
            let bWebhookNow = try await client.request(.get, "/api/v1/webhooks/\(bWebhook)", key: b.adminKey).json()
            #expect(bWebhookNow["version"] == .int(1))
            let bDeliveries = try await client.request(
                .get, "/api/v1/webhooks/\(bWebhook)/deliveries", key: b.adminKey
            ).json()
            #expect(bDeliveries["deliveries"]?.arrayValue?.map { $0["status"] } == ["dead"])
            // B's consumer did not move and B's command was neither replayed nor duplicated.
            let bConsumer = try await client.request(.get, "/api/v1/consumers/b-payroll-feed", key: b.adminKey).json()
            #expect(bConsumer["version"] == .int(1))
            #expect(bConsumer["committed_offset"] == .string(String(repeating: "0", count: 32)))
            let bCommands = try await client.request(.get, "/api/v1/commands", key: b.adminKey).json()
            #expect(bCommands["commands"]?.arrayValue?.map { $0["status"] } == ["accepted"])
            let aCommands = try await client.request(.get, "/api/v1/commands", key: a.adminKey).json()
            #expect(aCommands["commands"] == .array([]))
        }
    }

    /// A stdio program the operator allows (never started here: no tool of it is called).
    static let stdioCommand = "/usr/local/bin/payroll-mcp"

    /// The server's engine settings: no worker, and the stdio allow-list B's MCP server needs.
    static var engine: EngineSettings {
        var settings = EngineSettings.noWorker
        settings.mcpStdioAllowList = [stdioCommand]
        settings.allowedOutboundHosts = ["127.0.0.1"]
        return settings
    }

    /// The body sent to an operation that takes one: one that passes its schema.
    static let body = #"{"type":"x.y","name":"x","content":"x"}"#
    static let bodies = [
        "createTask": #"{"title":"x","schedule_kind":"cron","schedule_expr":"0 9 * * *","payload":{}}"#,
        "updateTask": #"{"title":"x"}"#,
        "snoozeTask": #"{"seconds":60}"#,
        "createSecret": #"{"name":"A_TOKEN","value":"a"}"#,
        "updateSecret": #"{"value":"overwritten"}"#,
        "createMCPServer": #"{"name":"a-mcp","transport":"stdio","command":"/usr/local/bin/payroll-mcp"}"#,
        "updateMCPServer": #"{"name":"taken","transport":"stdio","command":"/usr/local/bin/payroll-mcp"}"#,
        "createWebhook": #"{"url":"http://127.0.0.1:9/a-hook"}"#,
        "updateWebhook": #"{"url":"http://127.0.0.1:9/a-hook","enabled":false}"#,
        "createConsumer": #"{"name":"a-feed"}"#,
        "ackConsumer": #"{"offset":"00000000000000000000000000000000","rewind":true}"#,
        "submitCommand":
            #"{"action":"delete_instance","data":{"instance_id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"},"request_id":"a-1"}"#,
    ]
    /// The query sent to a GET: one that passes validation.
    static let queries = ["previewSchedule": "?schedule_kind=cron&schedule_expr=@hourly"]

    static func pathParameters(_ path: String) -> [String] {
        path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
    }

    static func parameterNames(_ operation: JSONValue, in document: JSONValue) -> [String] {
        (operation["parameters"]?.arrayValue ?? []).compactMap { parameter in
            if let reference = parameter["$ref"]?.stringValue {
                let name = reference.split(separator: "/").last.map(String.init) ?? ""
                return document["components"]?["parameters"]?[name]?["name"]?.stringValue
            }
            return parameter["name"]?.stringValue
        }
    }
}
