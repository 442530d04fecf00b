import AgentplaneCore
import AgentplaneTesting
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// OpenTelemetry tracing of a real `agentplane serve`, exporting to a real OTLP/HTTP receiver that decodes what it
/// gets (`Tests/Fixtures/otel/receiver.py`): one request's trace runs from its server span through the use case,
/// the store, the run it enqueued and the run's pipeline step to the outbound call, which carries the trace on;
/// without an endpoint nothing is exported; seed 003's `OTEL__*` names work as aliases.
@Suite(.timeLimit(.minutes(4)), .enabled(if: MCPTestServers.available)) struct TracingTests {
    static let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let callerSpanID = "00f067aa0ba902b7"
    static var traceparent: String { "00-\(traceID)-\(callerSpanID)-01" }

    /// A yearly task (it never fires by itself during a test) whose pipeline calls `url`, then the MCP server
    /// `telegram` when there is one.
    static func task(calling url: String, mcp: Bool) -> String {
        let tell = mcp ? #",{"id":"tell","uses":"telegram.send_message","with":{"chat_id":7,"text":"hi"}}"# : ""
        return #"{"title":"T","schedule_kind":"cron","schedule_expr":"0 0 1 1 *","payload":{"pipeline":"#
            + #"[{"id":"call","uses":"http.request","with":{"url":"\#(url)"}}\#(tell)]}}"#
    }

    static func serve(_ database: IsolatedDatabase, _ environment: [String: String]) async throws
        -> (AgentplaneProcess, String)
    {
        let server = try AgentplaneProcess(
            ["serve", "--port", "0", "--allow-outbound-host", "127.0.0.1"] + ServeTests.arguments(database),
            environment: ["AGENTPLANE_BOOTSTRAP_KEY": testAdminKey].merging(environment) { _, new in new })
        let ready = try #require(await server.firstLine { $0.contains("agentplane is ready") }, "\(server.outputText)")
        return (server, try #require(ServeTests.address(in: ready)))
    }

    /// Creates tenant `acme` and a task calling `url` in it (and the MCP server `telegram` on `mcpPort`, when
    /// given), and fires the task with `traceparent`; answers the tenant's id.
    static func fireTask(
        at address: String, calling url: String, mcpPort: Int? = nil, traceparent: String?
    ) async throws -> String {
        let tenant = try await send("POST", "\(address)/api/v1/tenants", json: #"{"slug":"acme","name":"Acme"}"#)
        let tenantID = try #require(tenant.json["id"]?.stringValue, "\(tenant.json)")
        if let mcpPort {
            let server = #"{"name":"telegram","transport":"http","url":"http://127.0.0.1:\#(mcpPort)/mcp"}"#
            let created = try await send("POST", "\(address)/api/v1/mcp-servers", tenant: tenantID, json: server)
            #expect(created.status == 201, "\(created.json)")
        }
        let body = Self.task(calling: url, mcp: mcpPort != nil)
        let task = try await send("POST", "\(address)/api/v1/tasks", tenant: tenantID, json: body)
        let taskID = try #require(task.json["id"]?.stringValue, "\(task.json)")
        let fired = try await send(
            "POST", "\(address)/api/v1/tasks/\(taskID)/run_now", tenant: tenantID, traceparent: traceparent)
        #expect(fired.status == 202, "\(fired.json)")
        return tenantID
    }

    @Test(arguments: TestBackend.allCases)
    func aRequestsTraceRunsThroughTheStoreItsRunAndTheOutboundCallItCauses(backend: TestBackend) async throws {
        let store: (adapter: String, system: String) =
            backend == .sqlite ? ("SQLiteTaskStore", "sqlite") : ("PostgresTaskStore", "postgresql")
        try await OTLPReceiver.with { receiver in
            try await MCPTestServers.withTelegram { telegramPort, _ in
                try await withIsolatedDatabase(backend) { database in
                    let (server, address) = try await Self.serve(
                        database,
                        [
                            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_SERVICE_NAME": "agentplane-test",
                            "OTEL_BSP_SCHEDULE_DELAY": "100",
                        ])
                    let tenantID = try await Self.fireTask(
                        at: address, calling: receiver.url("/hit/outbound"), mcpPort: telegramPort,
                        traceparent: Self.traceparent)

                    // The outbound call carried the trace on, as a child of its client span.
                    let hit = try await receiver.awaitReceived { !$0.hits.isEmpty }.hits[0]
                    let sent = try #require(hit["headers"]?["traceparent"]?.stringValue, "\(hit)").split(separator: "-")
                    #expect(sent.count == 4 && sent[1] == Self.traceID[...], "\(sent)")
                    let clientSpanID = String(sent[2])

                    let wanted: Set = [
                        "runTaskNow", "\(store.adapter).fire", "run task.run", "step http.request", "http.request",
                        "step telegram.send_message", "tools/call telegram.send_message", "mcp.http",
                    ]
                    let trace = try await receiver.awaitReceived { received in
                        wanted.isSubset(of: received.spans.filter { $0.traceID == Self.traceID }.map(\.name))
                    }.spans.filter { $0.traceID == Self.traceID }
                    #expect(trace.allSatisfy { $0.serviceName == "agentplane-test" }, "\(trace)")
                    let byID = Dictionary(trace.map { ($0.spanID, $0) }) { first, _ in first }
                    let request = try #require(trace.first { $0.kind == "SERVER" }, "\(trace)")
                    #expect(request.parentSpanID == Self.callerSpanID)
                    #expect(request.attributes["http.request.method"] == "POST")
                    let useCase = try #require(trace.first { $0.name == "runTaskNow" })
                    #expect(useCase.parentSpanID == request.spanID)
                    let fire = try #require(trace.first { $0.name == "\(store.adapter).fire" }, "\(trace)")
                    #expect(fire.parentSpanID == useCase.spanID && fire.kind == "CLIENT")
                    #expect(fire.attributes["db.system"] == .string(store.system))
                    let run = try #require(trace.first { $0.name == "run task.run" })
                    #expect(run.parentSpanID == useCase.spanID, "the run continues the request that enqueued it")
                    #expect(run.attributes["agentplane.run.outcome"] == "succeeded")
                    #expect(run.attributes["agentplane.tenant_id"] == .string(tenantID))
                    let step = try #require(trace.first { $0.name == "step http.request" })
                    #expect(step.parentSpanID == run.spanID)
                    let call = try #require(byID[clientSpanID], "the hit's parent span is the exported client span")
                    #expect(call.name == "http.request" && call.kind == "CLIENT" && call.parentSpanID == step.spanID)
                    #expect(call.attributes["url.full"] == .string(receiver.url("/hit/outbound")))
                    #expect(call.attributes["http.response.status_code"] == .int(200))
                    // The MCP tool call, and its POST over the streamable-HTTP transport.
                    let tell = try #require(trace.first { $0.name == "step telegram.send_message" })
                    #expect(tell.parentSpanID == run.spanID)
                    let tool = try #require(trace.first { $0.name == "tools/call telegram.send_message" })
                    #expect(tool.parentSpanID == tell.spanID && tool.attributes["gen_ai.tool.name"] == "send_message")
                    let post = try #require(trace.first { $0.name == "mcp.http" && $0.parentSpanID == tool.spanID })
                    #expect(post.kind == "CLIENT" && post.attributes["http.request.method"] == "POST")

                    // Logs and problem documents name the span's trace, also when the client sent none.
                    let problem = try await Self.send("GET", "\(address)/api/v1/tasks/\(UUID())", tenant: tenantID)
                    #expect(problem.status == 404)
                    let problemTrace = try #require(problem.json["trace_id"]?.stringValue)
                    let failed = try await receiver.awaitReceived {
                        $0.spans.contains { $0.traceID == problemTrace && $0.kind == "SERVER" }
                    }.spans.filter { $0.traceID == problemTrace && $0.kind == "INTERNAL" }
                    // The use case's span names the problem's code; a 4xx is an answer, not a failure.
                    #expect(failed.map(\.attributes["error.type"]) == [problem.json["code"]], "\(failed)")
                    #expect(failed.map(\.status) == ["UNSET"])
                    let access = try #require(
                        await server.firstLine { $0.contains(#""msg":"request""#) && $0.contains(problemTrace) })
                    #expect(access.contains(#""user_id":"api_key:testadmn""#), "\(access)")
                    #expect(access.contains(#""tenant_id":"\#(TenantID.platform)""#), "\(access)")
                    #expect(server.outputText.contains(#""trace_id":"\#(Self.traceID)""#))

                    server.signal(SIGTERM)
                    #expect(await server.waitForExit(within: .seconds(30)) == 0, "\(server.outputText)")
                }
            }
        }
    }

    @Test func withoutAnEndpointNothingIsExportedAndSeedThreeAliasesExport() async throws {
        try await OTLPReceiver.with { receiver in
            try await withIsolatedDatabase(.sqlite) { database in
                let (plain, address) = try await Self.serve(database, [:])
                _ = try await Self.fireTask(
                    at: address, calling: receiver.url("/hit/untraced"), traceparent: Self.traceparent)
                let hit = try await receiver.awaitReceived { !$0.hits.isEmpty }.hits[0]
                #expect(hit["headers"]?["traceparent"] == nil, "no tracer, no trace context sent on: \(hit)")
                plain.signal(SIGTERM)
                #expect(await plain.waitForExit(within: .seconds(30)) == 0, "\(plain.outputText)")
                // Whatever the node had to export, it flushed before exiting; the receiver answers in order.
                _ = try await Self.send("GET", receiver.url("/hit/after-exit"))
                let received = try await receiver.awaitReceived { $0.hits.count == 2 }
                #expect(received.exports.isEmpty && received.spans.isEmpty, "\(received)")

                let (aliased, second) = try await Self.serve(
                    database,
                    [
                        "OTEL__EXPORTER_ENDPOINT": receiver.url("/v1/traces"), "OTEL__SERVICE_NAME": "seed-003",
                        "OTEL__EXPORTER_HEADERS": "authorization=Bearer token", "OTEL_BSP_SCHEDULE_DELAY": "100",
                    ])
                #expect(try await Self.send("GET", "\(second)/health", traceparent: Self.traceparent).status == 200)
                let exported = try await receiver.awaitReceived { received in
                    received.spans.contains { $0.traceID == Self.traceID && $0.kind == "SERVER" }
                }
                let span = try #require(exported.spans.first { $0.traceID == Self.traceID && $0.kind == "SERVER" })
                #expect(span.serviceName == "seed-003" && span.parentSpanID == Self.callerSpanID)
                #expect(exported.exports.first?["path"] == "/v1/traces")
                #expect(exported.exports.first?["headers"]?["authorization"] == "Bearer token")
                aliased.signal(SIGTERM)
                #expect(await aliased.waitForExit(within: .seconds(30)) == 0, "\(aliased.outputText)")
            }
        }
    }

    /// One request as the platform admin (acting in `tenant` when given); answers the status and the JSON body.
    static func send(
        _ method: String, _ url: String, tenant: String? = nil, traceparent: String? = nil, json: String? = nil
    ) async throws -> (status: Int, json: JSONValue) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.setValue("Bearer \(testAdminKey)", forHTTPHeaderField: "Authorization")
        if let tenant { request.setValue(tenant, forHTTPHeaderField: "X-Tenant-ID") }
        if let traceparent { request.setValue(traceparent, forHTTPHeaderField: "traceparent") }
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(json.utf8)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return (
            (response as? HTTPURLResponse)?.statusCode ?? 0,
            JSONValue(parsing: String(decoding: data, as: UTF8.self)) ?? .null
        )
    }
}
