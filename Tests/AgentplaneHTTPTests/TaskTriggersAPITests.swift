import AgentplaneCore
import AgentplaneServer
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Tasks fired by what happens rather than by the clock: event tasks (pattern and filter, each matching
/// event once, in log order, chains of tasks cut off), condition tasks (fire when the condition turns true),
/// and the runner's `if`, step timeout and step retry, through a live server with its worker and scheduler.
@Suite struct TaskTriggersAPITests {
    static var engine: EngineSettings {
        var settings = EngineSettings()
        settings.allowedOutboundHosts = ["127.0.0.1"]
        return settings
    }

    static func createTask(_ client: any TestClientProtocol, key: String, _ body: String) async throws -> String {
        let response = try await client.request(.post, "/api/v1/tasks", key: key, json: body)
        #expect(response.status == .created, "\(response.text)")
        return try #require(try response.json()["id"]?.stringValue)
    }

    static func publish(_ client: any TestClientProtocol, key: String, _ body: String) async throws {
        let response = try await client.request(.post, "/events", key: key, json: body)
        #expect(response.status == .created, "\(response.text)")
    }

    /// The task's runs, oldest first, once there are `count` ended ones.
    static func runs(_ client: any TestClientProtocol, key: String, task: String, count: Int) async throws
        -> [JSONValue]
    {
        let page = try await client.awaitJSON("/api/v1/runs?task_id=\(task)&limit=100", key: key, timeout: .seconds(90))
        {
            let runs = $0["runs"]?.arrayValue ?? []
            return runs.filter { ["succeeded", "dead"].contains($0["status"]?.stringValue ?? "") }.count >= count
        }
        return (page["runs"]?.arrayValue ?? []).reversed()
    }

    @Test(arguments: TestBackend.allCases)
    func eventTasksFireOncePerMatchingEventInLogOrder(backend: TestBackend) async throws {
        try await withLiveServer(backend, engine: Self.engine) { client, _ in
            let tenant = try await TenantFixture.make(client, slug: "orders")
            let task = try await Self.createTask(
                client, key: tenant.adminKey,
                #"""
                {"title":"paid orders","schedule_kind":"event","schedule_expr":"{\"type\":\"order.*\",\"filter\":{\"paid\":true}}",
                 "payload":{"pipeline":[{"id":"say","uses":"log","with":{"message":"order ${event.data.id} (${event.type})"}}]}}
                """#)
            let created = try await client.request(.get, "/api/v1/tasks/\(task)", key: tenant.adminKey).json()
            #expect(created["next_run_at"] == nil)
            for (id, type, paid) in [
                (1, "order.created", true), (2, "order.created", false), (3, "invoice.sent", true),
                (4, "order.updated", true),
            ] {
                try await Self.publish(
                    client, key: tenant.adminKey, #"{"type":"\#(type)","data":{"id":\#(id),"paid":\#(paid)}}"#)
            }
            // A sentinel matched by a second task: once it ran, every earlier event was looked at.
            let sentinel = try await Self.createTask(
                client, key: tenant.adminKey,
                #"{"title":"sentinel","schedule_kind":"event","schedule_expr":"sentinel","payload":{"pipeline":[{"id":"s","uses":"log"}]}}"#
            )
            try await Self.publish(client, key: tenant.adminKey, #"{"type":"sentinel"}"#)
            _ = try await Self.runs(client, key: tenant.adminKey, task: sentinel, count: 1)
            let runs = try await Self.runs(client, key: tenant.adminKey, task: task, count: 2)
            #expect(runs.count == 2, "\(runs)")
            let messages = try await runs.asyncMap { run -> String? in
                let id = try #require(run["id"]?.stringValue)
                let detail = try await client.request(.get, "/api/v1/runs/\(id)", key: tenant.adminKey).json()
                return detail["steps"]?.arrayValue?.first?["output"]?["logged"]?.stringValue
            }
            #expect(messages == ["order 1 (order.created)", "order 4 (order.updated)"])
            // Another tenant's events never fire it.
            let other = try await TenantFixture.make(client, slug: "others")
            try await Self.publish(
                client, key: other.adminKey, #"{"type":"order.created","data":{"id":9,"paid":true}}"#)
            try await Self.publish(client, key: tenant.adminKey, #"{"type":"sentinel"}"#)
            _ = try await Self.runs(client, key: tenant.adminKey, task: sentinel, count: 2)
            #expect(try await Self.runs(client, key: tenant.adminKey, task: task, count: 2).count == 2)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func tasksTriggeringEachOtherStopAfterTheMaximumDepth(backend: TestBackend) async throws {
        try await withLiveServer(backend, engine: Self.engine) { client, _ in
            let tenant = try await TenantFixture.make(client, slug: "pingpong")
            func relay(_ listens: String, _ publishes: String) -> String {
                #"""
                {"title":"\#(listens)","schedule_kind":"event","schedule_expr":"\#(listens).*",
                 "payload":{"pipeline":[{"id":"p","uses":"events.publish","with":{"type":"\#(publishes).next"}}]}}
                """#
            }
            let ping = try await Self.createTask(client, key: tenant.adminKey, relay("ping", "pong"))
            let pong = try await Self.createTask(client, key: tenant.adminKey, relay("pong", "ping"))
            try await Self.publish(client, key: tenant.adminKey, #"{"type":"ping.start"}"#)
            // Depths 1…8 run (four each); the event published at depth 8 fires nothing.
            let pings = try await Self.runs(client, key: tenant.adminKey, task: ping, count: 4)
            let pongs = try await Self.runs(client, key: tenant.adminKey, task: pong, count: 4)
            let sentinel = try await Self.createTask(
                client, key: tenant.adminKey,
                #"{"title":"sentinel","schedule_kind":"event","schedule_expr":"sentinel","payload":{"pipeline":[{"id":"s","uses":"log"}]}}"#
            )
            try await Self.publish(client, key: tenant.adminKey, #"{"type":"sentinel"}"#)
            _ = try await Self.runs(client, key: tenant.adminKey, task: sentinel, count: 1)
            #expect(pings.count == 4 && pongs.count == 4)
            #expect(try await Self.runs(client, key: tenant.adminKey, task: ping, count: 4).count == 4)
            #expect(try await Self.runs(client, key: tenant.adminKey, task: pong, count: 4).count == 4)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func conditionTasksFireWhenTheirConditionTurnsTrue(backend: TestBackend) async throws {
        // The watched service answers 200 (false), 201 (true: fires), 201 (still true: no fire), 200, 201 (fires).
        let statuses: [HTTPResponse.Status] = [.ok, .created, .created, .ok, .created]
        let respond: @Sendable (Int) async -> HTTPResponse.Status = { statuses[min($0, statuses.count) - 1] }
        try await FakeHTTPServer.run(respond: respond) { watched, port in
            let clock = ManualClock()
            try await withLiveServer(backend, clock: clock, engine: Self.engine) { client, _ in
                let tenant = try await TenantFixture.make(client, slug: "watch")
                let expression = JSONValue.object([
                    "every_seconds": .int(10),
                    "source": ["uses": "http.request", "with": ["url": .string("http://127.0.0.1:\(port)/status")]],
                    "when": "result.status == 201",
                ]).jsonText
                let task = try await Self.createTask(
                    client, key: tenant.adminKey,
                    JSONValue.object([
                        "title": "watch", "schedule_kind": "condition", "schedule_expr": .string(expression),
                        "payload": [
                            "pipeline": .array([
                                ["id": "say", "uses": "log", "with": ["message": "status ${event.data.result.status}"]]
                            ])
                        ],
                    ]).jsonText)
                for check in 1...statuses.count {
                    clock.advance(seconds: 11)
                    // The check's run (the scheduler's, once the clock passed its due time) ends.
                    _ = try await client.awaitJSON(
                        "/api/v1/runs?task_id=\(task)&limit=100", key: tenant.adminKey, timeout: .seconds(90)
                    ) {
                        ($0["runs"]?.arrayValue ?? []).filter {
                            $0["arguments"]?["check"] == .bool(true) && $0["status"] == "succeeded"
                        }.count >= check
                    }
                    #expect(watched.requests == check, "check \(check): \(watched.requests) requests")
                }
                let all = try await Self.runs(client, key: tenant.adminKey, task: task, count: statuses.count + 2)
                let fires = all.filter { $0["arguments"]?["check"] == nil }
                #expect(fires.count == 2, "\(all)")
                let id = try #require(fires.first?["id"]?.stringValue)
                let detail = try await client.request(.get, "/api/v1/runs/\(id)", key: tenant.adminKey).json()
                #expect(detail["steps"]?.arrayValue?.first?["output"]?["logged"] == "status 201")
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func stepsHonourIfTimeoutAndRetry(backend: TestBackend) async throws {
        try await withLiveServer(backend, engine: Self.engine) { client, _ in
            let tenant = try await TenantFixture.make(client, slug: "steps")
            let task = try await Self.createTask(
                client, key: tenant.adminKey,
                #"""
                {"title":"steps","schedule_kind":"cron","schedule_expr":"0 0 1 1 *","max_retries":0,"payload":{"pipeline":[
                  {"id":"a","uses":"log","with":{"message":"one"}},
                  {"id":"b","uses":"log","if":"steps.a.logged == 'two'"},
                  {"id":"c","uses":"sleep","with":{"seconds":5},"timeout_seconds":0.2,"retry":{"max_attempts":2}},
                  {"id":"d","uses":"log"}]}}
                """#)
            let fired = try await client.request(.post, "/api/v1/tasks/\(task)/run_now", key: tenant.adminKey)
            let id = try #require(try fired.json()["id"]?.stringValue)
            let run = try await client.awaitJSON("/api/v1/runs/\(id)", key: tenant.adminKey, timeout: .seconds(30)) {
                $0["status"] == "dead" || $0["status"] == "succeeded"
            }
            #expect(run["status"] == "dead")
            let steps = run["steps"]?.arrayValue ?? []
            #expect(steps.map { $0["outcome"] } == ["succeeded", "skipped", "failed"])
            #expect(steps.last?["calls"] == .int(2))
            #expect(steps.last?["error"]?.stringValue?.contains("timed out") == true, "\(steps)")
            #expect(run["last_error"]?.stringValue?.contains("step 'c'") == true)
        }
    }
}

extension Array {
    /// `transform` applied to each element in order, awaiting each.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async throws -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
