import AgentplaneCore
import AgentplaneServer
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// The `chat` runtime on a fake OpenAI-compatible model and the `http` runtime on agent services, both on
/// loopback: outputs, streamed `run.output`, usage, knowledge-base context, and upstreams that fail, hang
/// or answer garbage (a failed run with its reason, never a hang).
@Suite(.timeLimit(.minutes(3))) struct InstanceRuntimesTests {
    static func auth(_ key: String) -> (String, String) { ("Authorization", "Bearer \(key)") }

    /// The messages of a stream until `end`.
    static func drain(_ stream: EventStreamClient) async throws -> [ServerSentMessage] {
        var messages: [ServerSentMessage] = []
        while let message = try await stream.next(timeout: .seconds(30)) {
            messages.append(message)
            if message.event == "end" { break }
        }
        return messages
    }

    @Test(arguments: TestBackend.allCases)
    func aChatInstanceAnswersStreamsAndCountsTokens(backend: TestBackend) async throws {
        try await FakeOpenAI.run { model, base in
            model.reply = "Paris is the capital of France"
            model.usage = (prompt: 12, completion: 6)
            try await withLiveServer(backend, engine: PlatformRunsTests.engine) { client, _ in
                let acme = try await TenantFixture.make(client, slug: "acme")
                _ = try await client.request(
                    .post, "/api/v1/secrets", key: acme.adminKey, json: #"{"name":"MODEL_KEY","value":"sk-test-1234"}"#)
                let id = try await InstanceRunsAPITests.runningInstance(
                    client, key: acme.adminKey,
                    defaults: #"""
                        {"runtime":"chat","endpoint":"\#(base.absoluteString)","model":"fake-model",
                         "api_key_secret":"MODEL_KEY","system_prompt":"Answer briefly.","knowledge_base_top_k":2}
                        """#,
                    pipeline: "{}")
                let entry = try await client.request(
                    .post, "/api/v1/instances/\(id)/knowledge-base/entries", key: acme.adminKey,
                    json: #"{"content":"The capital of France is Paris, on the Seine."}"#)
                let entryID = try #require(try entry.json()["id"]?.stringValue)
                _ = try await client.awaitJSON(
                    "/api/v1/instances/\(id)/knowledge-base/entries/\(entryID)", key: acme.adminKey
                ) { $0["status"] == "ready" }

                // wait: the reply, the usage, the key from the secret, the context from the knowledge base.
                let waited = try await client.request(
                    .post, "/api/v1/instances/\(id)/runs", key: acme.adminKey,
                    json: #"{"input":{"message":"What is the capital of France?"}}"#)
                #expect(waited.status == .ok, "\(waited.text)")
                let run = try waited.json()
                #expect(run["status"] == "succeeded")
                #expect(run["output"] == "Paris is the capital of France")
                #expect(
                    run["usage"] == ["prompt_tokens": .int(12), "completion_tokens": .int(6), "total_tokens": .int(18)])
                let asked = try #require(model.requests.last { $0.path.hasSuffix("/chat/completions") })
                #expect(asked.authorization == "Bearer sk-test-1234")
                let messages = asked.body?["messages"]?.arrayValue ?? []
                #expect(messages.first?["content"] == "Answer briefly.", "\(messages)")
                #expect(messages.dropFirst().first?["content"]?.stringValue?.contains("on the Seine") == true)
                #expect(messages.last?["content"] == "What is the capital of France?")
                #expect(!waited.text.contains("sk-test-1234"))

                // stream: run.output deltas, in order, make up the reply; then the run's end.
                let stream = try await EventStreamClient.open(
                    port: try #require(client.port), path: "/api/v1/instances/\(id)/runs",
                    headers: [Self.auth(acme.adminKey)], method: .POST,
                    body: #"{"input":"Where is Paris?","mode":"stream"}"#)
                #expect(stream.status == 200, "\(stream.problem ?? "")")
                let streamed = try await Self.drain(stream)
                let deltas = streamed.filter { $0.event == "run.output" }.compactMap { $0.json?["data"] }
                #expect(!deltas.isEmpty)
                #expect(deltas.compactMap { $0["index"]?.numberValue.map(Int.init) } == Array(0..<deltas.count))
                #expect(deltas.compactMap { $0["delta"]?.stringValue }.joined() == "Paris is the capital of France")
                #expect(streamed.compactMap(\.event).suffix(2) == ["run.succeeded", "end"])
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aModelThatFailsForeverFailsTheRunWithItsReason(backend: TestBackend) async throws {
        try await FakeOpenAI.run { model, base in
            try await withLiveServer(backend, engine: PlatformRunsTests.engine) { client, _ in
                let acme = try await TenantFixture.make(client, slug: "acme")
                let id = try await InstanceRunsAPITests.runningInstance(
                    client, key: acme.adminKey,
                    defaults: #"{"runtime":"chat","endpoint":"\#(base.absoluteString)","model":"fake-model"}"#,
                    pipeline: "{}")
                model.alwaysStatus = 500
                let failed = try await client.request(
                    .post, "/api/v1/instances/\(id)/runs", key: acme.adminKey,
                    json: #"{"input":"hello","max_attempts":1}"#)
                #expect(failed.status == .ok, "\(failed.text)")
                #expect(try failed.json()["status"] == "dead")
                #expect(try failed.json()["last_error"]?.stringValue?.contains("500") == true)
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func anHTTPInstanceCallsItsAgentServiceAndStreamsItsEvents(backend: TestBackend) async throws {
        try await UpstreamTestServer.run { upstream, port in
            try await withLiveServer(backend, engine: PlatformRunsTests.engine) { client, _ in
                let acme = try await TenantFixture.make(client, slug: "acme")
                let id = try await InstanceRunsAPITests.runningInstance(
                    client, key: acme.adminKey,
                    defaults: #"{"runtime":"http","endpoint":"http://127.0.0.1:\#(port)","run_path":"/invoke"}"#,
                    pipeline: "{}")
                // JSON: the body the agent received is the run's input with its ids.
                let ran = try await client.request(
                    .post, "/api/v1/instances/\(id)/runs", key: acme.adminKey, json: #"{"input":{"q":"hi"}}"#)
                #expect(ran.status == .ok, "\(ran.text)")
                let output = try #require(try ran.json()["output"])
                #expect(output["method"] == "POST")
                #expect(output["path"] == "/invoke")
                let sent = try #require(output["body"]?.stringValue.flatMap(JSONValue.init(parsing:)))
                #expect(sent["input"] == ["q": "hi"])
                #expect(sent["run_id"] == (try ran.json()["id"]))
                #expect(output["headers"]?["authorization"] == nil)

                // SSE: the first event is out (as run.output) before the agent sends the second.
                _ = try await client.request(
                    .patch, "/api/v1/instances/\(id)", key: acme.adminKey, json: #"{"config":{"run_path":"/sse"}}"#)
                let stream = try await EventStreamClient.open(
                    port: try #require(client.port), path: "/api/v1/instances/\(id)/runs",
                    headers: [Self.auth(acme.adminKey)], method: .POST, body: #"{"mode":"stream"}"#)
                var first: ServerSentMessage?
                while let message = try await stream.next(timeout: .seconds(30)) {
                    if message.event == "run.output" {
                        first = message
                        break
                    }
                }
                #expect(first?.json?["data"]?["delta"] == "one")
                upstream.secondEvent.countDown()
                let rest = try await Self.drain(stream)
                #expect(rest.compactMap { $0.event == "run.output" ? $0.json?["data"]?["delta"] : nil } == ["two"])
                #expect(rest.last?.event == "end")
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func anAgentServiceThatHangsOrAnswersGarbageFailsTheRun(backend: TestBackend) async throws {
        try await UpstreamTestServer.run { _, port in
            try await GarbageServer.run { garbage in
                try await withLiveServer(backend, engine: PlatformRunsTests.engine) { client, _ in
                    let acme = try await TenantFixture.make(client, slug: "acme")
                    let id = try await InstanceRunsAPITests.runningInstance(
                        client, key: acme.adminKey,
                        defaults: #"{"runtime":"http","endpoint":"http://127.0.0.1:\#(port)","run_path":"/hang"}"#,
                        pipeline: "{}")
                    let hung = try await client.request(
                        .post, "/api/v1/instances/\(id)/runs", key: acme.adminKey,
                        json: #"{"input":{},"timeout_seconds":1}"#)
                    #expect(hung.status == .ok, "\(hung.text)")
                    #expect(try hung.json()["status"] == "dead")
                    #expect(try hung.json()["last_error"]?.stringValue?.contains("timed out") == true)

                    _ = try await client.request(
                        .patch, "/api/v1/instances/\(id)", key: acme.adminKey,
                        json: #"{"config":{"endpoint":"http://127.0.0.1:\#(garbage)","run_path":null}}"#)
                    let broken = try await client.request(
                        .post, "/api/v1/instances/\(id)/runs", key: acme.adminKey,
                        json: #"{"input":{},"max_attempts":1}"#)
                    #expect(broken.status == .ok, "\(broken.text)")
                    #expect(try broken.json()["status"] == "dead")
                    #expect(
                        try broken.json()["last_error"]?.stringValue?.contains("did not answer") == true,
                        "\(broken.text)")
                }
            }
        }
    }
}
