import AgentplaneCore
import AgentplaneServer
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Runs of instances (DESIGN §6, seed 003's run and run history): the pipeline runtime end to end in the
/// three modes, the checks before a run, cancel, and seed 003's routes on an "agent" (an instance id).
@Suite(.timeLimit(.minutes(3))) struct InstanceRunsAPITests {
    static let greeting = #"{"pipeline":[{"id":"greet","uses":"log","with":{"message":"hello ${input.name}"}}]}"#

    /// An agent whose instances run by `runtime`, and a tenant's running instance of it.
    static func runningInstance(
        _ client: any TestClientProtocol, key: String, defaults: String = #"{"runtime":"pipeline"}"#,
        config: String = "{}", pipeline: String = greeting
    ) async throws -> String {
        let agent = try await client.request(
            .post, "/api/v1/agents",
            json: #"""
                {"type":"runner-\#(UUID().uuidString.prefix(8).lowercased())","name":"Runner","category":"ops",
                 "is_active":true,"default_config":\#(defaults)}
                """#)
        #expect(agent.status == .created, "\(agent.text)")
        let agentID = try #require(try agent.json()["id"]?.stringValue)
        let created = try await client.request(
            .post, "/api/v1/instances", key: key,
            json: #"{"agent_id":"\#(agentID)","name":"Runnable","config":\#(config),"pipeline_config":\#(pipeline)}"#)
        #expect(created.status == .created, "\(created.text)")
        let id = try #require(try created.json()["id"]?.stringValue)
        let settled = try await PlatformRunsTests.settled(client, id, key: key)
        #expect(settled["status"] == "running", "\(settled)")
        return id
    }

    @Test(arguments: TestBackend.allCases)
    func aPipelineInstanceRunsInEachMode(backend: TestBackend) async throws {
        try await withLiveServer(backend, engine: PlatformRunsTests.engine) { client, _ in
            let acme = try await TenantFixture.make(client, slug: "acme")
            let id = try await Self.runningInstance(client, key: acme.adminKey)

            // wait: the ended run, its output from the input, its step log.
            let waited = try await client.request(
                .post, "/api/v1/instances/\(id)/runs", key: acme.adminKey, json: #"{"input":{"name":"Ada"}}"#)
            #expect(waited.status == .ok, "\(waited.text)")
            let run = try waited.json()
            #expect(run["status"] == "succeeded")
            #expect(run["kind"] == "instance.run")
            #expect(run["output"] == ["logged": "hello Ada"])
            #expect(run["result"]?["runtime"] == "pipeline")
            #expect(run["steps"]?.arrayValue?.map { $0["step_id"] } == ["greet"])
            #expect(run["arguments"]?["input"] == ["name": "Ada"])
            let runID = try #require(run["id"]?.stringValue)

            // background: 202 at once, with where to follow it.
            let queued = try await client.request(
                .post, "/api/v1/instances/\(id)/runs", key: acme.adminKey,
                json: #"{"input":{"name":"Grace"},"mode":"background"}"#)
            #expect(queued.status == .accepted, "\(queued.text)")
            let background = try #require(try queued.json()["id"]?.stringValue)
            #expect(queued.headers[.location] == "/api/v1/instances/\(id)/runs/\(background)")
            let ended = try await client.awaitJSON("/api/v1/instances/\(id)/runs/\(background)", key: acme.adminKey) {
                $0["status"] == "succeeded"
            }
            #expect(ended["output"] == ["logged": "hello Grace"])

            // stream: the run's events, from run.queued to run.succeeded, then `end`.
            let port = try #require(client.port)
            let stream = try await EventStreamClient.open(
                port: port, path: "/api/v1/instances/\(id)/runs",
                headers: [("Authorization", "Bearer \(acme.adminKey)")],
                method: .POST, body: #"{"input":{"name":"Lin"},"mode":"stream"}"#)
            #expect(stream.status == 200, "\(stream.problem ?? "")")
            var types: [String] = []
            var ids: [String] = []
            while let message = try await stream.next(timeout: .seconds(30)) {
                types.append(message.event ?? "")
                if let messageID = message.id { ids.append(messageID) }
                if message.event == "end" { break }
            }
            #expect(types == ["run.queued", "run.started", "run.succeeded", "end"])

            // Resumed after its first event: the rest, then `end`.
            let streamedRun = try #require(
                try await client.request(
                    .get, "/api/v1/instances/\(id)/runs?limit=1", key: acme.adminKey
                ).json()["runs"]?.arrayValue?.first?["id"]?.stringValue)
            let resumed = try await EventStreamClient.open(
                port: port, path: "/api/v1/instances/\(id)/runs/\(streamedRun)/stream",
                headers: [("Authorization", "Bearer \(acme.adminKey)"), ("Last-Event-ID", ids[0])])
            var rest: [String] = []
            while let message = try await resumed.next(timeout: .seconds(30)) {
                rest.append(message.event ?? "")
                if message.event == "end" { break }
            }
            #expect(rest == ["run.started", "run.succeeded", "end"])

            // The history: newest first, only this instance's runs.
            let history = try await client.request(.get, "/api/v1/instances/\(id)/runs", key: acme.adminKey).json()
            #expect(history["runs"]?.arrayValue?.count == 3)
            #expect(history["runs"]?.arrayValue?.last?["id"]?.stringValue == runID)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func runtimesAreCheckedWhenSavedAndRunsOnlyWhenTheInstanceCanRun(backend: TestBackend) async throws {
        try await withLiveServer(backend, engine: PlatformRunsTests.engine) { client, _ in
            let acme = try await TenantFixture.make(client, slug: "acme")
            // An agent's default runtime keys are checked when it is saved.
            let badAgent = try await client.request(
                .post, "/api/v1/agents",
                json:
                    #"{"type":"bad-runtime","name":"Bad","category":"ops","default_config":{"runtime":"shell","timeout_seconds":0}}"#
            )
            #expect(badAgent.status == .unprocessableContent)
            let pointers = try badAgent.json()["errors"]?.arrayValue?.compactMap { $0["pointer"]?.stringValue }
            #expect(Set(pointers ?? []) == ["/default_config/runtime", "/default_config/timeout_seconds"])

            let id = try await Self.runningInstance(client, key: acme.adminKey)
            // A pipeline runtime needs a pipeline that parses; an http one an endpoint.
            let noPipeline = try await client.request(
                .patch, "/api/v1/instances/\(id)", key: acme.adminKey, json: #"{"pipeline_config":{"steps":[]}}"#)
            #expect(noPipeline.status == .unprocessableContent)
            #expect(try noPipeline.json()["errors"]?.arrayValue?.first?["pointer"] == "/pipeline_config/pipeline")
            let noEndpoint = try await client.request(
                .patch, "/api/v1/instances/\(id)", key: acme.adminKey,
                json: #"{"config":{"runtime":"http"},"pipeline_config":{}}"#)
            #expect(noEndpoint.status == .unprocessableContent)
            #expect(try noEndpoint.json()["errors"]?.arrayValue?.first?["pointer"] == "/config/endpoint")

            // Bad run requests name the field; nothing is enqueued.
            let badInput = try await client.request(
                .post, "/api/v1/instances/\(id)/runs", key: acme.adminKey, json: #"{"input":{},"max_attempts":0}"#)
            #expect(badInput.status == .unprocessableContent)
            #expect(try badInput.json()["errors"]?.arrayValue?.first?["pointer"] == "/max_attempts")
            let badMode = try await client.request(
                .post, "/api/v1/instances/\(id)/runs", key: acme.adminKey, json: #"{"mode":"later"}"#)
            #expect(badMode.status.code == 400 || badMode.status.code == 422, "\(badMode.text)")

            // A stopped instance does not run.
            _ = try await client.request(.post, "/api/v1/instances/\(id)/stop", key: acme.adminKey)
            let stopped = try await client.request(
                .post, "/api/v1/instances/\(id)/runs", key: acme.adminKey, json: #"{"input":{"name":"x"}}"#)
            #expect(stopped.status == .conflict)
            #expect(try stopped.json()["code"] == "INSTANCE_NOT_RUNNING")
            #expect(try stopped.json()["details"]?["status"] == "stopped")

            // One that declares no runtime does not either.
            let plainAgent = try await InstancesAPITests.agent(client)
            let plain = try await PlatformRunsTests.create(client, key: acme.adminKey, agent: plainAgent)
            _ = try await PlatformRunsTests.settled(client, plain, key: acme.adminKey)
            let unrunnable = try await client.request(
                .post, "/api/v1/instances/\(plain)/runs", key: acme.adminKey, json: #"{}"#)
            #expect(unrunnable.status == .conflict)
            #expect(try unrunnable.json()["code"] == "INSTANCE_NOT_RUNNABLE")

            // Another tenant's instance is not found; so is an unknown run of this one.
            let other = try await TenantFixture.make(client, slug: "other")
            let foreign = try await client.request(
                .post, "/api/v1/instances/\(id)/runs", key: other.adminKey, json: #"{}"#)
            #expect(foreign.status == .notFound)
            let unknown = try await client.request(
                .get, "/api/v1/instances/\(id)/runs/\(UUID().uuidString.lowercased())", key: acme.adminKey)
            #expect(unknown.status == .notFound)
            let history = try await client.request(.get, "/api/v1/instances/\(id)/runs", key: acme.adminKey).json()
            #expect(history["runs"]?.arrayValue?.isEmpty == true)
            let runs = try await client.request(.get, "/api/v1/runs?kind=instance.run", key: acme.adminKey).json()
            #expect(runs["runs"]?.arrayValue?.isEmpty == true)
        }
    }

    /// A `wait` request, through the API or the gateway, that outlasts its run's timeout by 5 s answers the run as
    /// it is: 202 with `Location`. (Restarted without a worker, so the runs stay queued whatever the machine's speed.)
    @Test(arguments: TestBackend.allCases)
    func aWaitPastTheRunsTimeoutAnswersTheRunAsItIs(backend: TestBackend) async throws {
        try await withIsolatedDatabase(backend) { database in
            let (id, key) = try await withLiveServer(on: database, engine: PlatformRunsTests.engine) { client, _ in
                let acme = try await TenantFixture.make(client, slug: "acme")
                let id = try await Self.runningInstance(client, key: acme.adminKey, config: #"{"timeout_seconds":1}"#)
                let activated = try await client.request(.post, "/api/v1/instances/\(id)/activate", key: acme.adminKey)
                #expect(activated.status == .ok, "\(activated.text)")
                return (id, acme.adminKey)
            }
            try await withLiveServer(on: database, engine: .noWorker) { client, _ in
                for (path, body) in [
                    ("/api/v1/instances/\(id)/runs", #"{"input":{"name":"Ada"},"timeout_seconds":1}"#),
                    ("/gateway/instances/\(id)", #"{"name":"Ada"}"#),
                ] {
                    let started = ContinuousClock.now
                    let accepted = try await client.request(.post, path, key: key, json: body)
                    #expect(accepted.status == .accepted, "\(path): \(accepted.text)")
                    #expect(ContinuousClock.now - started >= .seconds(6), "\(path) answered before its wait limit")
                    let run = try accepted.json()
                    let runID = try #require(run["id"]?.stringValue, "\(run)")
                    #expect(run["status"] == "queued", "\(run)")
                    let location = try #require(accepted.headers[.location])
                    #expect(location == "/api/v1/instances/\(id)/runs/\(runID)")
                    let followed = try await client.request(.get, location, key: key).json()
                    #expect(followed["id"]?.stringValue == runID && followed["status"] == "queued")
                }
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aRunningRunIsCancelledAndAnUnknownReferenceFailsTheRun(backend: TestBackend) async throws {
        try await withLiveServer(backend, engine: PlatformRunsTests.engine) { client, _ in
            let acme = try await TenantFixture.make(client, slug: "acme")
            let slow = try await Self.runningInstance(
                client, key: acme.adminKey,
                pipeline: #"{"pipeline":[{"id":"nap","uses":"sleep","with":{"seconds":120}}]}"#)
            let queued = try await client.request(
                .post, "/api/v1/instances/\(slow)/runs", key: acme.adminKey, json: #"{"mode":"background"}"#)
            let run = try #require(try queued.json()["id"]?.stringValue)
            _ = try await client.awaitJSON("/api/v1/instances/\(slow)/runs/\(run)", key: acme.adminKey) {
                $0["status"] == "running"
            }
            let cancel = try await client.request(
                .post, "/api/v1/instances/\(slow)/runs/\(run)/cancel", key: acme.adminKey)
            #expect(cancel.status == .ok, "\(cancel.text)")
            let cancelled = try await client.awaitJSON("/api/v1/instances/\(slow)/runs/\(run)", key: acme.adminKey) {
                $0["status"] == "cancelled"
            }
            #expect(cancelled["status"] == "cancelled")

            let broken = try await Self.runningInstance(
                client, key: acme.adminKey,
                pipeline: #"{"pipeline":[{"id":"greet","uses":"log","with":{"message":"${input.missing}"}}]}"#)
            let failed = try await client.request(
                .post, "/api/v1/instances/\(broken)/runs", key: acme.adminKey, json: #"{"input":{"name":"x"}}"#)
            #expect(failed.status == .ok, "\(failed.text)")
            #expect(try failed.json()["status"] == "dead")
            #expect(try failed.json()["last_error"]?.stringValue?.contains("'missing' is not a key of input") == true)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func seedThreeRoutesTakeAnInstanceID(backend: TestBackend) async throws {
        try await withLiveServer(backend, engine: PlatformRunsTests.engine) { client, _ in
            let acme = try await TenantFixture.make(client, slug: "acme")
            let id = try await Self.runningInstance(client, key: acme.adminKey)
            let ran = try await client.request(
                .post, "/api/v1/agents/\(id)/run", key: acme.adminKey, json: #"{"input":{"name":"Seed"}}"#)
            #expect(ran.status == .ok, "\(ran.text)")
            #expect(try ran.json()["output"] == ["logged": "hello Seed"])
            let runID = try #require(try ran.json()["id"]?.stringValue)
            let history = try await client.request(.get, "/api/v1/agents/\(id)/runs", key: acme.adminKey)
            #expect(try history.json()["runs"]?.arrayValue?.first?["id"]?.stringValue == runID)
            let one = try await client.request(.get, "/api/v1/agents/\(id)/runs/\(runID)", key: acme.adminKey)
            #expect(try one.json()["id"]?.stringValue == runID)
            // /redoc is /docs (the catalog's own `/api/v1/agents/{id}/versions` stays its own: AgentsAPITests).
            let redoc = try await client.request(.get, "/redoc")
            #expect(redoc.status == .ok)
            #expect(redoc.text.contains("openapi"))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func theGatewayStreamsAPipelineRunWhenAskedForEvents(backend: TestBackend) async throws {
        try await withLiveServer(backend, engine: PlatformRunsTests.engine) { client, _ in
            let acme = try await TenantFixture.make(client, slug: "acme")
            let id = try await Self.runningInstance(client, key: acme.adminKey)
            let activated = try await client.request(.post, "/api/v1/agents/\(id)/activate", key: acme.adminKey)
            #expect(activated.status == .ok, "\(activated.text)")
            let stream = try await EventStreamClient.open(
                port: try #require(client.port), path: "/gateway/instances/\(id)",
                headers: [("Authorization", "Bearer \(acme.adminKey)"), ("Accept", "text/event-stream")],
                method: .POST, body: #"{"name":"Gateway"}"#)
            #expect(stream.status == 200, "\(stream.problem ?? "")")
            var types: [String] = []
            var output: JSONValue?
            while let message = try await stream.next(timeout: .seconds(30)) {
                types.append(message.event ?? "")
                if message.event == "run.succeeded" { output = message.json?["data"] }
                if message.event == "end" { break }
            }
            #expect(types == ["run.queued", "run.started", "run.succeeded", "end"])
            #expect(output?["status"] == "succeeded")
            let deactivated = try await client.request(.post, "/api/v1/agents/\(id)/deactivate", key: acme.adminKey)
            #expect(try deactivated.json()["active"] == .bool(false))
        }
    }
}
