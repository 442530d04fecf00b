import AgentplaneCore
import AgentplaneServer
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Tasks that run, on a live server with its worker and scheduler: run_now's run succeeds with its step logs
/// on `GET /runs/{id}` and in `GET /runs?task_id=`, an unknown reference fails the run naming the step and
/// the path, a `once` task fired by the scheduler ends `completed`, and `http.request` to loopback is
/// refused unless the operator allowed it.
@Suite struct TaskRunsAPITests {
    static func engine(allowing hosts: [String] = []) -> EngineSettings {
        var settings = EngineSettings()
        settings.allowedOutboundHosts = hosts
        return settings
    }

    /// Polls the run until it is final (30 s at most); answers it.
    static func finished(_ client: any TestClientProtocol, _ run: String, key: String) async throws -> JSONValue {
        try await client.awaitJSON("/runs/\(run)", key: key, timeout: .seconds(30)) {
            ["succeeded", "failed", "dead", "cancelled"].contains($0["status"]?.stringValue ?? "")
        }
    }

    /// Creates a task and fires it now; answers the task id and the run id.
    static func runNow(_ client: any TestClientProtocol, key: String, _ body: String) async throws
        -> (task: String, run: String)
    {
        let task = try await TasksAPITests.create(client, key: key, body, path: "/tasks")
        let id = try #require(task["id"]?.stringValue)
        let accepted = try await client.request(.post, "/tasks/\(id)/run_now", key: key)
        #expect(accepted.status == .accepted, "\(accepted.text)")
        #expect(try accepted.json()["task_id"] == .string(id))
        #expect(try accepted.json()["kind"] == "task.run")
        return (id, try #require(try accepted.json()["id"]?.stringValue))
    }

    @Test(arguments: TestBackend.allCases)
    func runNowRunsTheBriefingPipelineWithStepLogs(backend: TestBackend) async throws {
        try await withLiveServer(backend, engine: Self.engine()) { client, _ in
            let acme = try await TenantFixture.make(client, slug: "acme")
            let (task, runID) = try await Self.runNow(client, key: acme.adminKey, TasksAPITests.briefing)
            let run = try await Self.finished(client, runID, key: acme.adminKey)
            #expect(run["status"] == "succeeded", "\(run)")
            let steps = try #require(run["steps"]?.arrayValue)
            #expect(steps.map { $0["step_id"] } == ["weather", "notify"])
            #expect(steps.allSatisfy { $0["outcome"] == "succeeded" && $0["attempt"] == .int(1) })
            #expect(steps.allSatisfy { ($0["duration_ms"]?.numberValue ?? -1) >= 0 && $0["started_at"] != nil })
            #expect(steps[0]["output"] == ["logged": "Sunny, 21 degrees in Chisinau"])
            // `${steps.weather.logged}` rendered into the second step's input, its number kept.
            #expect(steps[1]["input"] == ["chat_id": .int(12345), "text": "Sunny, 21 degrees in Chisinau"])
            #expect(steps[1]["output"]?["logged"]?.stringValue?.contains("Sunny, 21 degrees") == true)
            #expect(run["result"]?["steps"]?["weather"] == ["logged": "Sunny, 21 degrees in Chisinau"])

            let listed = try await client.request(.get, "/runs?task_id=\(task)", key: acme.adminKey).json()
            #expect(listed["runs"]?.arrayValue?.map { $0["id"] } == [.string(runID)])
            #expect(listed["runs"]?.arrayValue?.first?["task_id"] == .string(task))
            let fired = try await client.request(
                .get, "/events?type=task.fired&subject=tasks/\(task)", key: acme.adminKey
            ).json()
            #expect(fired["events"]?.arrayValue?.first?["data"]?["run_id"] == .string(runID))
            // The schedule is untouched by run_now.
            let after = try await client.request(.get, "/tasks/\(task)", key: acme.adminKey).json()
            #expect(after["status"] == "active" && after["next_run_at"] != nil)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func anUnknownPathFailsTheRunNamingTheStepAndThePath(backend: TestBackend) async throws {
        try await withLiveServer(backend, engine: Self.engine()) { client, _ in
            let acme = try await TenantFixture.make(client, slug: "acme")
            let body = TasksAPITests.body(
                pipeline: #"""
                    [{"id":"first","uses":"log","with":{"message":"hi"}},
                     {"id":"second","uses":"log","with":{"message":"${steps.first.nope}"}}]
                    """#)
            let (_, runID) = try await Self.runNow(client, key: acme.adminKey, body)
            let run = try await Self.finished(client, runID, key: acme.adminKey)
            #expect(run["status"] == "dead" || run["status"] == "failed", "\(run)")
            let error = run["last_error"]?.stringValue ?? ""
            #expect(error.contains("second") && error.contains("steps.first.nope"), "\(error)")
            // Not retried: the reference will not appear.
            #expect(run["attempt"] == .int(1))
            let steps = try #require(run["steps"]?.arrayValue)
            #expect(steps.map { $0["outcome"] } == ["succeeded", "failed"])
            #expect(steps[1]["error"]?.stringValue?.contains("steps.first.nope") == true)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aOnceTaskFiredByTheSchedulerIsCompletedAfterItsRun(backend: TestBackend) async throws {
        try await withLiveServer(backend, engine: Self.engine()) { client, _ in
            let acme = try await TenantFixture.make(client, slug: "acme")
            let at = Timestamp.now().adding(seconds: 2).rfc3339
            let task = try await TasksAPITests.create(
                client, key: acme.adminKey, TasksAPITests.body(kind: "once", expr: at))
            let id = try #require(task["id"]?.stringValue)
            #expect(task["next_run_at"] != nil && task["status"] == "active")
            let done = try await client.awaitJSON("/tasks/\(id)", key: acme.adminKey, timeout: .seconds(30)) {
                $0["status"] == "completed"
            }
            #expect(done["next_run_at"] == nil)
            // The handler completes the task; the worker records the run's success just after.
            let runs = try await client.awaitJSON("/runs?task_id=\(id)", key: acme.adminKey, timeout: .seconds(30)) {
                $0["runs"]?.arrayValue?.first?["status"] == "succeeded"
            }
            #expect(runs["runs"]?.arrayValue?.map { $0["status"] } == ["succeeded"])
            let finished = try await client.request(.post, "/tasks/\(id)/resume", key: acme.adminKey)
            #expect(finished.status == .conflict)
            #expect(try finished.json()["details"] == ["from": "completed", "to": "active"])
        }
    }

    static func httpTask(port: Int) -> String {
        TasksAPITests.body(
            pipeline: #"[{"id":"call","uses":"http.request","with":{"url":"http://127.0.0.1:\#(port)/ping"}}]"#)
    }

    @Test(arguments: TestBackend.allCases)
    func httpRequestToLoopbackIsRefusedUnlessAllowed(backend: TestBackend) async throws {
        try await FakeHTTPServer.run { outside, port in
            try await withLiveServer(backend, engine: Self.engine()) { client, _ in
                let acme = try await TenantFixture.make(client, slug: "acme")
                let (_, runID) = try await Self.runNow(client, key: acme.adminKey, Self.httpTask(port: port))
                let run = try await Self.finished(client, runID, key: acme.adminKey)
                #expect(run["status"] == "dead" || run["status"] == "failed", "\(run)")
                let error = run["last_error"]?.stringValue ?? ""
                #expect(error.contains("call") && error.contains("refused"), "\(error)")
            }
            #expect(outside.requests == 0)
            try await withLiveServer(backend, engine: Self.engine(allowing: ["127.0.0.1"])) { client, _ in
                let acme = try await TenantFixture.make(client, slug: "acme")
                let (_, runID) = try await Self.runNow(client, key: acme.adminKey, Self.httpTask(port: port))
                let run = try await Self.finished(client, runID, key: acme.adminKey)
                #expect(run["status"] == "succeeded", "\(run)")
                let output = run["steps"]?.arrayValue?.first?["output"]
                #expect(output?["status"] == .int(200) && output?["body"] == "fake", "\(output ?? .null)")
            }
            #expect(outside.requests == 1)
        }
    }
}
