import AgentplaneCore
import AgentplaneServer
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Health monitoring of active instances, through the API of a server that runs its worker and probes every
/// second: an `http` instance whose agent service fails (`running → failed` after the threshold, with the
/// reason and the events) and recovers (`failed → pending → provisioning → running`), the kept checks, an
/// inactive instance left alone, other runtimes' probes, tenant isolation and the seed alias.
@Suite(.timeLimit(.minutes(3))) struct InstanceHealthTests {
    static let policy = InstanceHealthPolicy(interval: .seconds(1), failureThreshold: 2, keep: 5)

    /// A server with its worker, probing on a short interval, allowed to reach loopback services.
    static var engine: EngineSettings {
        var settings = EngineSettings()
        settings.allowedOutboundHosts = ["127.0.0.1"]
        settings.health = policy
        return settings
    }

    static func create(_ client: any TestClientProtocol, key: String, agent: String, body: String) async throws
        -> String
    {
        let response = try await client.request(
            .post, "/api/v1/instances", key: key, json: #"{"agent_id":"\#(agent)","name":"Watched",\#(body)}"#)
        #expect(response.status == .created, "\(response.text)")
        let id = try #require(try response.json()["id"]?.stringValue)
        let running = try await client.awaitJSON("/api/v1/instances/\(id)", key: key) { $0["status"] == "running" }
        #expect(running["status"] == "running")
        return id
    }

    static func activate(_ client: any TestClientProtocol, _ id: String, key: String) async throws {
        let activated = try await client.request(.post, "/api/v1/instances/\(id)/activate", key: key)
        #expect(activated.status == .ok, "\(activated.text)")
    }

    /// Runs `body` on a live server probing on `policy`, with an agent and the admin key of a tenant `acme`.
    static func withTenant(
        _ backend: TestBackend,
        _ body:
            @escaping @Sendable (_ client: any TestClientProtocol, _ agent: String, _ key: String) async throws
            -> Void
    ) async throws {
        try await withLiveServer(backend, engine: engine) { client, _ in
            let agent = try await InstancesAPITests.agent(client)
            let acme = try await TenantFixture.make(client, slug: "acme")
            try await body(client, agent, acme.adminKey)
        }
    }

    /// `data` of the instance's events of `type`, oldest first.
    static func events(_ client: any TestClientProtocol, _ id: String, _ type: String, key: String) async throws
        -> [JSONValue]
    {
        let page = try await client.request(
            .get, "/api/v1/events?subject=instances/\(id)&type=\(type)&limit=100", key: key
        ).json()
        return page["events"]?.arrayValue?.compactMap { $0["data"] } ?? []
    }

    @Test(arguments: TestBackend.allCases)
    func failingInstancesFailAndRecoverThroughProvisioning(backend: TestBackend) async throws {
        // The agent service answers 503 while `failing`, else 200.
        let failing = LockedValue(false)
        let respond: @Sendable (Int) async -> HTTPResponse.Status = { _ in
            failing.withLock { $0 } ? .serviceUnavailable : .ok
        }
        try await FakeHTTPServer.run(respond: respond) { agentService, port in
            try await withLiveServer(backend, engine: Self.engine) { client, _ in
                let agent = try await InstancesAPITests.agent(client)
                let acme = try await TenantFixture.make(client, slug: "acme")
                let globex = try await TenantFixture.make(client, slug: "globex")
                let key = acme.adminKey
                let id = try await Self.create(
                    client, key: key, agent: agent,
                    body: #""config":{"runtime":"http","endpoint":"http://127.0.0.1:\#(port)","health_path":"/health"}"#
                )
                // Before activation nothing is probed; the answer says so.
                let idle = try await client.request(.get, "/api/v1/instances/\(id)/health", key: key)
                #expect(idle.status == .ok, "\(idle.text)")
                let before = try idle.json()
                #expect(before["active"] == .bool(false) && before["checks"] == .array([]) && before["healthy"] == nil)
                #expect(before["failure_threshold"] == .int(2) && before["interval_seconds"]?.numberValue == 1)

                // Active and answering: healthy checks, newest first, no event (the first check was healthy).
                try await Self.activate(client, id, key: key)
                let healthy = try await client.awaitJSON("/api/v1/instances/\(id)/health", key: key) {
                    ($0["checks"]?.arrayValue?.count ?? 0) >= 2
                }
                #expect(
                    healthy["active"] == .bool(true) && healthy["healthy"] == .bool(true)
                        && healthy["status"] == "running")
                #expect(healthy["consecutive_failures"] == .int(0))
                let checks = try #require(healthy["checks"]?.arrayValue)
                #expect(checks.allSatisfy { $0["healthy"] == .bool(true) })
                #expect(
                    checks.first?["detail"]?.stringValue == "GET http://127.0.0.1:\(port)/health answered 200")
                #expect(healthy["last_checked_at"] == checks.first?["checked_at"])
                let times = checks.compactMap { $0["checked_at"]?.stringValue }
                #expect(times == times.sorted(by: >))
                #expect(try await Self.events(client, id, "instance.health_changed", key: key).isEmpty)

                // The service fails: after two failed probes in a row the instance is failed, with the reason.
                failing.withLock { $0 = true }
                let failed = try await client.awaitJSON("/api/v1/instances/\(id)", key: key) {
                    $0["status"] == "failed"
                }
                #expect(
                    failed["status_reason"]?.stringValue
                        == "health: 2 consecutive failed probes: GET http://127.0.0.1:\(port)/health answered 503")
                let unhealthy = try await client.request(.get, "/api/v1/instances/\(id)/health", key: key).json()
                #expect(unhealthy["healthy"] == .bool(false) && unhealthy["status"] == "failed")
                #expect((unhealthy["consecutive_failures"]?.numberValue ?? 0) >= 2)
                #expect(unhealthy["status_reason"] == failed["status_reason"])
                let down = try await Self.events(client, id, "instance.health_changed", key: key)
                #expect(down.map { $0["healthy"] } == [.bool(false)])
                #expect(down.first?["consecutive_failures"] == .int(1))
                #expect(down.first?["detail"]?.stringValue?.hasSuffix("answered 503") == true)

                // It recovers: failed → pending → provisioning → running, and its health changes back.
                let requestsBefore = agentService.requests
                failing.withLock { $0 = false }
                let recovered = try await client.awaitJSON("/api/v1/instances/\(id)", key: key) {
                    $0["status"] == "running"
                }
                #expect(recovered["status_reason"]?.stringValue?.contains("answered HTTP 200") == true)
                #expect(agentService.requests > requestsBefore)
                let changes = try await PlatformRunsTests.statusChanges(client, id, key: key)
                #expect(
                    changes == [
                        "pending→provisioning", "provisioning→running", "running→failed", "failed→pending",
                        "pending→provisioning", "provisioning→running",
                    ])
                let up = try await Self.events(client, id, "instance.health_changed", key: key)
                #expect(up.map { $0["healthy"] } == [.bool(false), .bool(true)])
                #expect(up.last?["consecutive_failures"] == .int(0))

                // At most five checks are kept (the policy's keep).
                let kept = try await client.awaitJSON("/api/v1/instances/\(id)/health", key: key) {
                    $0["checks"]?.arrayValue?.count == 5 && $0["healthy"] == .bool(true)
                }
                #expect(kept["checks"]?.arrayValue?.count == 5)

                // Another tenant's instance is 404, as is an unknown one; the seed's path answers the same.
                let foreign = try await client.request(.get, "/api/v1/instances/\(id)/health", key: globex.adminKey)
                #expect(foreign.status == .notFound)
                let unknown = try await client.request(
                    .get, "/api/v1/instances/\(UUIDv7.make().lowercasedString)/health", key: key)
                #expect(unknown.status == .notFound)
                let alias = try await client.request(.get, "/api/v1/agents/\(id)/health", key: key)
                #expect(alias.status == .ok)
                #expect(try alias.json()["instance_id"] == .string(id) && alias.json()["active"] == .bool(true))
                let probes = try await client.request(
                    .get, "/api/v1/runs?instance_id=\(id)&kind=instance.health", key: key
                ).json()
                #expect(probes["runs"]?.arrayValue?.isEmpty == false)
                _ = try await client.awaitText("/metrics") {
                    $0.contains("agentplane_instance_health_checks_total{") && $0.contains(#"outcome="unhealthy""#)
                }
            }
        }
    }

    /// A chat instance's probe asks its model endpoint with the key its `api_key_secret` names; without that
    /// secret the probe fails, saying which secret is missing, and the instance fails past the threshold.
    @Test(arguments: TestBackend.allCases)
    func aChatProbeUsesTheInstancesSecretKey(backend: TestBackend) async throws {
        try await FakeOpenAI.run { model, baseURL in
            try await Self.withTenant(backend) { client, agent, key in
                let secret = "sk-probe-\(UUID().uuidString.prefix(8))"
                let stored = try await client.request(
                    .post, "/api/v1/secrets", key: key, json: #"{"name":"MODEL_KEY","value":"\#(secret)"}"#)
                #expect(stored.status == .created, "\(stored.text)")
                let config = #"{"endpoint":"\#(baseURL.absoluteString)","model":"small","api_key_secret":"MODEL_KEY"}"#
                let id = try await Self.create(client, key: key, agent: agent, body: #""config":\#(config)"#)
                try await Self.activate(client, id, key: key)
                let healthy = try await client.awaitJSON("/api/v1/instances/\(id)/health", key: key) {
                    ($0["checks"]?.arrayValue?.count ?? 0) >= 1
                }
                #expect(healthy["healthy"] == .bool(true), "\(healthy)")
                let probes = model.requests.filter { $0.path == "/v1/models" }
                #expect(!probes.isEmpty && probes.allSatisfy { $0.authorization == "Bearer \(secret)" })

                // The secret goes: the probes fail naming it, and the instance fails.
                let deleted = try await client.request(.delete, "/api/v1/secrets/MODEL_KEY", key: key)
                #expect(deleted.status == .noContent)
                let failed = try await client.awaitJSON("/api/v1/instances/\(id)", key: key) {
                    $0["status"] == "failed"
                }
                #expect(
                    failed["status_reason"]?.stringValue?.hasSuffix(
                        "the tenant has no secret named 'MODEL_KEY' (api_key_secret)") == true, "\(failed)")
                let health = try await client.request(.get, "/api/v1/instances/\(id)/health", key: key).json()
                #expect(health["healthy"] == .bool(false))
                #expect(!health.jsonText.contains(secret))
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func inactiveInstancesAreLeftAloneAndOtherRuntimesAreProbed(backend: TestBackend) async throws {
        try await FakeHTTPServer.run { modelService, port in
            try await Self.withTenant(backend) { client, agent, key in
                let inactive = try await Self.create(
                    client, key: key, agent: agent,
                    body: #""config":{"runtime":"http","endpoint":"http://127.0.0.1:\#(port)"}"#)
                // A chat instance: its model endpoint's readiness (GET <endpoint>/models).
                let chat = try await Self.create(
                    client, key: key, agent: agent,
                    body: #""config":{"endpoint":"http://127.0.0.1:\#(port)/v1","model":"small"}"#)
                // A pipeline of built-ins only: nothing outside the platform to ask.
                let pipeline = try await Self.create(
                    client, key: key, agent: agent,
                    body: #""pipeline_config":{"pipeline":[{"id":"a","uses":"log","with":{"message":"hi"}}]}"#)
                try await Self.activate(client, chat, key: key)
                try await Self.activate(client, pipeline, key: key)
                let chatHealth = try await client.awaitJSON("/api/v1/instances/\(chat)/health", key: key) {
                    ($0["checks"]?.arrayValue?.count ?? 0) >= 2
                }
                #expect(chatHealth["healthy"] == .bool(true))
                #expect(
                    chatHealth["checks"]?.arrayValue?.first?["detail"]
                        == "model endpoint 127.0.0.1: GET /models answered 200")
                let pipelineHealth = try await client.awaitJSON("/api/v1/instances/\(pipeline)/health", key: key) {
                    ($0["checks"]?.arrayValue?.count ?? 0) >= 2
                }
                #expect(pipelineHealth["healthy"] == .bool(true))
                #expect(pipelineHealth["checks"]?.arrayValue?.first?["detail"] == "no external dependencies")

                // The inactive instance got no probe run and no check while the others were probed.
                let idle = try await client.request(.get, "/api/v1/instances/\(inactive)/health", key: key).json()
                #expect(idle["active"] == .bool(false) && idle["checks"] == .array([]))
                let runs = try await client.request(
                    .get, "/api/v1/runs?instance_id=\(inactive)&kind=instance.health", key: key
                ).json()
                #expect(runs["runs"] == .array([]))
                #expect(modelService.requests >= 4)  // two provisionings, and the chat instance's probes
            }
        }
    }
}
