import AgentplaneCore
import AgentplaneServer
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Activation and the gateway (`/gateway/instances/{id}/…`) on a server with its worker, in front of a real agent
/// service on loopback: who may call, what crosses, and the route's life (stored, restarts, deletion).
@Suite(.timeLimit(.minutes(4))) struct GatewayTests {
    /// A server with its worker, allowed to reach loopback agent services.
    static var engine: EngineSettings {
        var settings = EngineSettings()
        settings.allowedOutboundHosts = ["127.0.0.1"]
        return settings
    }

    /// Creates an `http` instance of `agent` at `endpoint` and waits for it to run.
    static func runningInstance(
        _ client: any TestClientProtocol, key: String, agent: String, endpoint: String, timeout: Int? = nil
    ) async throws -> String {
        let timeoutField = timeout.map { #","timeout_seconds":\#($0)"# } ?? ""
        let id = try await PlatformRunsTests.create(
            client, key: key, agent: agent, config: #"{"runtime":"http","endpoint":"\#(endpoint)"\#(timeoutField)}"#)
        let settled = try await PlatformRunsTests.settled(client, id, key: key)
        #expect(settled["status"] == "running", "\(settled)")
        return id
    }

    /// `instance.activated` and `instance.deactivated` events of the instance, oldest first.
    static func activationEvents(_ client: any TestClientProtocol, _ id: String, key: String) async throws -> [String] {
        let page = try await client.request(.get, "/api/v1/events?subject=instances/\(id)", key: key).json()
        return (page["events"]?.arrayValue ?? []).compactMap(\.["type"]?.stringValue)
            .filter { $0 == "instance.activated" || $0 == "instance.deactivated" }
    }

    static func problemCode(_ response: TestResponse) -> String? {
        guard response.headers[.contentType] == "application/problem+json" else { return nil }
        return (try? response.json())?["code"]?.stringValue
    }

    @Test(arguments: TestBackend.allCases)
    func activationRegistersTheRouteAndCallsAreProxiedForTheTenantOnly(backend: TestBackend) async throws {
        try await UpstreamTestServer.run { _, port in
            try await withLiveServer(backend, engine: Self.engine) { client, _ in
                let agent = try await InstancesAPITests.agent(client)
                let acme = try await TenantFixture.make(client, slug: "acme")
                let globex = try await TenantFixture.make(client, slug: "globex")
                let viewer = try await TenantFixture.make(client, slug: "acme-viewers", role: "viewer")
                let id = try await Self.runningInstance(
                    client, key: acme.adminKey, agent: agent, endpoint: "http://127.0.0.1:\(port)/agent")
                let gateway = "/gateway/instances/\(id)"

                // Not activated yet: a problem, not a hang.
                let early = try await client.request(.get, "\(gateway)/echo", key: acme.adminKey)
                #expect(early.status == .notFound)
                #expect(Self.problemCode(early) == "INSTANCE_NOT_ACTIVATED")

                let activated = try await client.request(.post, "/api/v1/instances/\(id)/activate", key: acme.adminKey)
                #expect(activated.status == .ok, "\(activated.text)")
                let body = try activated.json()
                #expect(body["active"] == .bool(true))
                #expect(body["route"]?.stringValue == gateway)
                #expect(body["instance_id"]?.stringValue == id)
                #expect(body["activated_by"]?.stringValue?.hasPrefix("api_key:") == true)
                #expect(body["activated_at"]?.stringValue != nil)
                // Again: the same activation, no second event.
                let again = try await client.request(.post, "/api/v1/instances/\(id)/activate", key: acme.adminKey)
                #expect(again.status == .ok)
                #expect(try again.json()["activated_at"] == body["activated_at"])
                #expect(try await Self.activationEvents(client, id, key: acme.adminKey) == ["instance.activated"])

                // GET with a query: path and query reach the endpoint's path; the caller's credential does not,
                // the trace context does; the upstream learns who called.
                let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
                let got = try await client.request(
                    .get, "\(gateway)/chat/thread?x=1&y=two%20words", key: acme.adminKey,
                    headers: [
                        HTTPField.Name("traceparent")!: traceparent, HTTPField.Name("tracestate")!: "vendor=1",
                        HTTPField.Name("X-Custom")!: "kept", HTTPField.Name("Keep-Alive")!: "timeout=5",
                        HTTPField.Name("X-Agentplane-Tenant")!: "forged",
                        HTTPField.Name("X-Forwarded-For")!: "198.51.100.1",
                        HTTPField.Name("X-Forwarded-Proto")!: "https",
                    ])
                #expect(got.status == .ok, "\(got.text)")
                #expect(got.headers[HTTPField.Name("X-Upstream")!] == "echo")
                #expect(got.headers[HTTPField.Name("X-Request-ID")!] != nil)
                let echo = try got.json()
                #expect(echo["method"] == "GET")
                #expect(echo["path"] == "/agent/chat/thread")
                #expect(echo["query"] == "x=1&y=two%20words")
                let headers = try #require(echo["headers"])
                #expect(headers["authorization"] == nil)
                #expect(headers["keep-alive"] == nil)
                #expect(headers["traceparent"]?.stringValue == traceparent)
                #expect(headers["tracestate"] == "vendor=1")
                #expect(headers["x-custom"] == "kept")
                #expect(headers["x-agentplane-tenant"]?.stringValue == acme.id)
                #expect(headers["x-agentplane-instance"]?.stringValue == id)
                // No trusted proxy declared: the caller's own forwarding headers are replaced.
                #expect(headers["x-forwarded-for"] == "127.0.0.1", "\(headers)")
                #expect(headers["x-forwarded-proto"] == "http")
                #expect(headers["x-forwarded-host"]?.stringValue?.isEmpty == false)

                // POST with a body (any content type: the body is the agent's business).
                let posted = try await client.request(
                    .post, "\(gateway)/invoke", key: acme.adminKey, json: #"{"message":"hi","n":[1,2,3]}"#)
                #expect(posted.status == .ok)
                #expect(try posted.json()["method"] == "POST")
                #expect(try posted.json()["body"] == #"{"message":"hi","n":[1,2,3]}"#)
                let plain = try await client.request(
                    .put, "\(gateway)", key: acme.adminKey, json: "not json, {",
                    headers: [.contentType: "text/plain"])
                #expect(plain.status == .ok)
                #expect(try plain.json()["path"] == "/agent")
                #expect(try plain.json()["body"] == "not json, {")

                // Another tenant, an unknown instance, a path that is no id: the same 404. No credential: 401;
                // a credential without `instances:run`: 403.
                for (path, key) in [
                    ("\(gateway)/echo", globex.adminKey),
                    ("/gateway/instances/\(UUID().uuidString.lowercased())/x", acme.adminKey),
                    ("/gateway/instances/not-an-id/x", acme.adminKey),
                ] {
                    let refused = try await client.request(.get, path, key: key)
                    #expect(refused.status == .notFound, "\(path)")
                    #expect(Self.problemCode(refused) == "INSTANCE_NOT_ACTIVATED", "\(refused.text)")
                }
                let anonymous = try await client.request(.get, "\(gateway)/echo", key: nil)
                #expect(anonymous.status == .unauthorized)
                #expect(Self.problemCode(anonymous) == "UNAUTHENTICATED")
                let viewing = try await client.request(.get, "\(gateway)/echo", key: viewer.adminKey)
                #expect(viewing.status == .forbidden)
                #expect(Self.problemCode(viewing) == "INSUFFICIENT_SCOPE")
                // Another tenant cannot activate or deactivate it either.
                let foreign = try await client.request(
                    .post, "/api/v1/instances/\(id)/deactivate", key: globex.adminKey)
                #expect(foreign.status == .notFound)

                // Counted per instance, by status.
                let metrics = try await client.awaitText("/metrics") {
                    $0.contains(
                        #"agentplane_gateway_requests_total{tenant="\#(acme.id)",instance="\#(id)",code="200"} 3"#)
                }
                #expect(metrics.contains(#"agentplane_gateway_request_duration_seconds"#))
                #expect(metrics.contains(#"instance="\#(id)""#))

                // Stopped while active: 409, and activating a stopped instance is refused.
                #expect(
                    try await client.request(.post, "/api/v1/instances/\(id)/stop", key: acme.adminKey).status == .ok)
                let stopped = try await client.request(.get, "\(gateway)/echo", key: acme.adminKey)
                #expect(stopped.status == .conflict)
                #expect(Self.problemCode(stopped) == "INSTANCE_NOT_RUNNING")
                let deactivated = try await client.request(
                    .post, "/api/v1/instances/\(id)/deactivate", key: acme.adminKey)
                #expect(deactivated.status == .ok)
                #expect(try deactivated.json()["active"] == .bool(false))
                #expect(try deactivated.json()["deactivated_at"]?.stringValue != nil)
                let refusedActivation = try await client.request(
                    .post, "/api/v1/instances/\(id)/activate", key: acme.adminKey)
                #expect(refusedActivation.status == .conflict)
                #expect(Self.problemCode(refusedActivation) == "INSTANCE_NOT_RUNNING")

                // Deactivated: the route answers 404; deactivating again changes nothing.
                let gone = try await client.request(.get, "\(gateway)/echo", key: acme.adminKey)
                #expect(gone.status == .notFound)
                #expect(Self.problemCode(gone) == "INSTANCE_NOT_ACTIVATED")
                let twice = try await client.request(.post, "/api/v1/instances/\(id)/deactivate", key: acme.adminKey)
                #expect(twice.status == .ok)
                #expect(
                    try await Self.activationEvents(client, id, key: acme.adminKey) == [
                        "instance.activated", "instance.deactivated",
                    ])
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func theRouteSurvivesARestartAndDeletingTheInstanceDeactivatesIt(backend: TestBackend) async throws {
        try await UpstreamTestServer.run { _, port in
            try await withIsolatedDatabase(backend) { database in
                let (id, key) = try await withLiveServer(on: database, engine: Self.engine) { client, _ in
                    let agent = try await InstancesAPITests.agent(client)
                    let acme = try await TenantFixture.make(client, slug: "acme")
                    let id = try await Self.runningInstance(
                        client, key: acme.adminKey, agent: agent, endpoint: "http://127.0.0.1:\(port)")
                    let activated = try await client.request(
                        .post, "/api/v1/instances/\(id)/activate", key: acme.adminKey)
                    #expect(activated.status == .ok)
                    return (id, acme.adminKey)
                }
                // The same database, a new process: the route is still there.
                try await withLiveServer(on: database, engine: Self.engine) { client, _ in
                    let called = try await client.request(.post, "/gateway/instances/\(id)/after-restart", key: key)
                    #expect(called.status == .ok, "\(called.text)")
                    #expect(try called.json()["path"] == "/after-restart")
                    let deleted = try await client.request(.delete, "/api/v1/instances/\(id)", key: key)
                    #expect(deleted.status == .noContent)
                    let gone = try await client.request(.post, "/gateway/instances/\(id)/x", key: key)
                    #expect(gone.status == .notFound)
                    #expect(Self.problemCode(gone) == "INSTANCE_NOT_ACTIVATED")
                    let events =
                        try await client.request(.get, "/api/v1/events?subject=instances/\(id)", key: key)
                        .json()["events"]?.arrayValue?.compactMap(\.["type"]?.stringValue) ?? []
                    let deactivation = try #require(events.firstIndex(of: "instance.deactivated"))
                    #expect(events.firstIndex(of: "instance.deleted").map { $0 > deactivation } == true)
                }
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aPipelineInstanceRunsThroughTheGateway(backend: TestBackend) async throws {
        try await withLiveServer(backend, engine: Self.engine) { client, _ in
            let agent = try await InstancesAPITests.agent(client)
            let acme = try await TenantFixture.make(client, slug: "acme")
            let created = try await client.request(
                .post, "/api/v1/instances", key: acme.adminKey,
                json: #"""
                    {"agent_id":"\#(agent)","name":"Echo","pipeline_config":{"pipeline":[{"id":"echo","uses":"log","with":{"message":"${input.text}"}}]}}
                    """#)
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(try created.json()["id"]?.stringValue)
            #expect(try await PlatformRunsTests.settled(client, id, key: acme.adminKey)["status"] == "running")
            #expect(
                try await client.request(.post, "/api/v1/instances/\(id)/activate", key: acme.adminKey).status == .ok)
            let gateway = "/gateway/instances/\(id)"

            let ran = try await client.request(.post, gateway, key: acme.adminKey, json: #"{"text":"hello"}"#)
            #expect(ran.status == .ok, "\(ran.text)")
            let answer = try ran.json()
            #expect(answer["status"] == "succeeded", "\(answer)")
            #expect(answer["run_id"]?.stringValue != nil)
            #expect(answer["error"] == .null)
            #expect(answer["output"] != nil && answer["output"] != .null, "\(answer)")

            // Only POST runs it; its body must be JSON.
            let got = try await client.request(.get, gateway, key: acme.adminKey)
            #expect(got.status == .methodNotAllowed)
            #expect(got.headers[.allow] == "POST")
            #expect(Self.problemCode(got) == "METHOD_NOT_ALLOWED")
            let broken = try await client.request(.post, gateway, key: acme.adminKey, json: #"{"text":"#)
            #expect(broken.status == .badRequest)
            #expect(Self.problemCode(broken) == "MALFORMED_JSON")
            let text = try await client.request(
                .post, gateway, key: acme.adminKey, json: "hello", headers: [.contentType: "text/plain"])
            #expect(text.status == .unsupportedMediaType)
        }
    }
}
