import AgentplaneCore
import AgentplaneServer
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// The platform's own work on the job engine, through the API of a server that runs its worker:
/// provisioning (with an agent service on loopback that answers, or not), stop and start, teardown,
/// and the runs API that shows, cancels and replays that work.
@Suite struct PlatformRunsTests {
    /// A server with its worker, allowed to reach loopback agent services.
    static var engine: EngineSettings {
        var settings = EngineSettings()
        settings.allowedOutboundHosts = ["127.0.0.1"]
        return settings
    }

    static func create(_ client: any TestClientProtocol, key: String, agent: String, config: String = "{}")
        async throws -> String
    {
        let response = try await client.request(
            .post, "/api/v1/instances", key: key,
            json: #"{"agent_id":"\#(agent)","name":"Provisioned","config":\#(config)}"#)
        #expect(response.status == .created, "\(response.text)")
        #expect(try response.json()["status"] == "pending")
        return try #require(try response.json()["id"]?.stringValue)
    }

    static func settled(_ client: any TestClientProtocol, _ id: String, key: String) async throws -> JSONValue {
        try await client.awaitJSON("/api/v1/instances/\(id)", key: key) {
            $0["status"] == "running" || $0["status"] == "failed"
        }
    }

    static func statusChanges(_ client: any TestClientProtocol, _ id: String, key: String) async throws -> [String] {
        let events = try await client.request(
            .get, "/api/v1/events?subject=instances/\(id)&type=instance.status_changed", key: key
        ).json()
        return events["events"]?.arrayValue?.compactMap {
            guard let from = $0["data"]?["from"]?.stringValue, let to = $0["data"]?["to"]?.stringValue else {
                return nil
            }
            return "\(from)→\(to)"
        } ?? []
    }

    @Test(arguments: TestBackend.allCases)
    func instancesAreProvisionedStoppedStartedAndTornDown(backend: TestBackend) async throws {
        try await FakeHTTPServer.run { agentService, port in
            try await withLiveServer(backend, engine: Self.engine) { client, _ in
                let agent = try await InstancesAPITests.agent(client)
                let acme = try await TenantFixture.make(client, slug: "acme")
                // No endpoint: the configuration is checked against the agent, and it runs.
                let plain = try await Self.create(client, key: acme.adminKey, agent: agent)
                let running = try await Self.settled(client, plain, key: acme.adminKey)
                #expect(running["status"] == "running")
                #expect(running["status_reason"]?.stringValue?.contains("no endpoint") == true)
                #expect(
                    try await Self.statusChanges(client, plain, key: acme.adminKey) == [
                        "pending→provisioning", "provisioning→running",
                    ])

                // An endpoint that answers is probed.
                let served = try await Self.create(
                    client, key: acme.adminKey, agent: agent,
                    config: #"{"endpoint":"http://127.0.0.1:\#(port)/health"}"#)
                let probed = try await Self.settled(client, served, key: acme.adminKey)
                #expect(probed["status"] == "running")
                #expect(probed["status_reason"]?.stringValue?.contains("answered HTTP 200") == true)
                #expect(agentService.requests == 1)

                // Stop, then start: provisioned again, end to end.
                let stopped = try await client.request(.post, "/api/v1/instances/\(served)/stop", key: acme.adminKey)
                #expect(try stopped.json()["status"] == "stopped")
                let started = try await client.request(.post, "/api/v1/instances/\(served)/start", key: acme.adminKey)
                #expect(try started.json()["status"] == "pending")
                #expect(try started.json()["status_reason"] == nil)
                #expect(try await Self.settled(client, served, key: acme.adminKey)["status"] == "running")
                #expect(agentService.requests == 2)
                #expect(
                    try await Self.statusChanges(client, served, key: acme.adminKey) == [
                        "pending→provisioning", "provisioning→running", "running→stopped", "stopped→pending",
                        "pending→provisioning", "provisioning→running",
                    ])

                // The runs API shows the work: two provisioning runs, succeeded, each with one attempt.
                // The instance is committed `running` by the handler, and its run is completed by the
                // worker's next completion batch just after, so the list is awaited, not read once.
                let runs = try await client.awaitJSON(
                    "/api/v1/runs?instance_id=\(served)&kind=instance.provision", key: acme.adminKey
                ) { $0["runs"]?.arrayValue?.allSatisfy { $0["status"] == "succeeded" } == true }
                let provisioned = try #require(runs["runs"]?.arrayValue)
                #expect(provisioned.count == 2)
                #expect(provisioned.allSatisfy { $0["status"] == "succeeded" })
                let one = try #require(provisioned.first?["id"]?.stringValue)
                let detail = try await client.request(.get, "/api/v1/runs/\(one)", key: acme.adminKey).json()
                #expect(detail["attempts"]?.arrayValue?.map { $0["outcome"] } == ["succeeded"])
                #expect(detail["result"]?["status"] == "running")
                let finished = try await client.request(.post, "/api/v1/runs/\(one)/cancel", key: acme.adminKey)
                #expect(finished.status == .conflict)
                #expect(try finished.json()["details"] == .object(["from": "succeeded", "to": "cancelled"]))

                // Deleting enqueues the teardown, which runs.
                #expect(
                    try await client.request(.delete, "/api/v1/instances/\(served)", key: acme.adminKey).status
                        == .noContent)
                let teardown = try await client.awaitJSON(
                    "/api/v1/runs?instance_id=\(served)&kind=instance.teardown", key: acme.adminKey
                ) { $0["runs"]?.arrayValue?.first?["status"] == "succeeded" }
                #expect(teardown["runs"]?.arrayValue?.count == 1)
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func provisioningFailsWithAReasonAndRetriesAnEndpointThatDoesNotAnswerYet(backend: TestBackend) async throws {
        // The agent service fails its first probe (503), then answers.
        let firstFails: @Sendable (Int) async -> HTTPResponse.Status = { $0 == 1 ? .serviceUnavailable : .ok }
        try await FakeHTTPServer.run(respond: firstFails) { agentService, port in
            try await withLiveServer(backend, engine: Self.engine) { client, _ in
                let agent = try await InstancesAPITests.agent(client)
                let acme = try await TenantFixture.make(client, slug: "acme")
                // A configuration that contradicts the agent's defaults fails at once, with the reason. (Runtime
                // keys such as `temperature` are refused when saved already: InstanceRunsAPITests.)
                let contradicting = try await Self.create(
                    client, key: acme.adminKey, agent: agent, config: #"{"limits":"lots"}"#)
                let failed = try await Self.settled(client, contradicting, key: acme.adminKey)
                #expect(failed["status"] == "failed")
                #expect(
                    failed["status_reason"]?.stringValue?.contains("config.limits is a string") == true,
                    "\(failed)")
                // A private address nobody allowed is refused (SSRF), without a request.
                let privateOne = try await Self.create(
                    client, key: acme.adminKey, agent: agent, config: #"{"endpoint":"http://10.1.2.3/"}"#)
                let refused = try await Self.settled(client, privateOne, key: acme.adminKey)
                #expect(refused["status"] == "failed")
                #expect(refused["status_reason"]?.stringValue?.contains("not a public address") == true)
                // A failed instance starts again once fixed.
                let fixed = try await client.request(
                    .patch, "/api/v1/instances/\(contradicting)", key: acme.adminKey,
                    json: #"{"config":{"limits":{"tokens":5}}}"#)
                #expect(fixed.status == .ok)
                _ = try await client.request(.post, "/api/v1/instances/\(contradicting)/start", key: acme.adminKey)
                #expect(try await Self.settled(client, contradicting, key: acme.adminKey)["status"] == "running")

                // The endpoint's 503 is retried with the run's backoff; the second attempt finds it up.
                let flaky = try await Self.create(
                    client, key: acme.adminKey, agent: agent,
                    config: #"{"endpoint":"http://127.0.0.1:\#(port)/"}"#)
                let settled = try await client.awaitJSON(
                    "/api/v1/instances/\(flaky)", key: acme.adminKey, timeout: .seconds(30)
                ) { $0["status"] == "running" || $0["status"] == "failed" }
                #expect(settled["status"] == "running", "\(settled)")
                #expect(agentService.requests == 2)
                let runs = try await client.request(
                    .get, "/api/v1/runs?instance_id=\(flaky)&kind=instance.provision", key: acme.adminKey
                ).json()
                let id = try #require(runs["runs"]?.arrayValue?.first?["id"]?.stringValue)
                let detail = try await client.awaitJSON("/api/v1/runs/\(id)", key: acme.adminKey) {
                    $0["status"] == "succeeded"
                }
                #expect(detail["attempts"]?.arrayValue?.map { $0["outcome"] } == ["failed", "succeeded"])
                #expect(detail["attempts"]?.arrayValue?.first?["error"]?.stringValue?.contains("503") == true)
            }
        }
    }
}
