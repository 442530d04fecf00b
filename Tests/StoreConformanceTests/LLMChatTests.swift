import AgentplaneApp
import AgentplaneCore
import AgentplaneTesting
import Foundation
import Testing

@testable import AgentplaneEngine

/// `llm.chat` against a real OpenAI-compatible server on loopback (`FakeOpenAI`): plain and streamed
/// completions, the key from a tenant secret, retries (the waits recorded through the injected sleep, not
/// waited), timeouts, provider errors, the SSRF check and the instance's configuration as fallback.
@Suite(.timeLimit(.minutes(1))) struct LLMChatTests {
    static let key = "sk-test-0123456789"

    /// What a test works with: the toolbox (loopback allowed unless said otherwise), a context for a tenant
    /// holding the secret `OPENAI_KEY`, the waits the client asked for, and the fake server.
    struct Harness: Sendable {
        var toolbox: BuiltInToolbox
        var client: ChatModelClient
        var context: ToolCallContext
        var waits: LockedValue<[Duration]>
        var server: FakeOpenAI
        var url: URL

        func chat(_ input: [String: JSONValue]) async throws -> JSONValue {
            try await toolbox.call("llm.chat", input: input, context: context)
        }

        /// The failure `input` ends in (nil when the call succeeds).
        func failure(_ input: [String: JSONValue]) async -> ToolFailure? {
            do {
                _ = try await chat(input)
                return nil
            } catch let failure as ToolFailure {
                return failure
            } catch {
                Issue.record("not a ToolFailure: \(error)")
                return nil
            }
        }

        /// The usual input, with `extra` on top and without the keys in `without`.
        func input(_ extra: [String: JSONValue] = [:], without: Set<String> = []) -> [String: JSONValue] {
            let base: [String: JSONValue] = [
                "endpoint": .string(url.absoluteString), "model": "gpt-test", "prompt": "hello world",
                "api_key_secret": "OPENAI_KEY", "stream": .bool(false),
            ]
            return base.merging(extra) { _, new in new }.filter { !without.contains($0.key) }
        }
    }

    static func withHarness(allowLoopback: Bool = true, _ body: (Harness) async throws -> Void) async throws {
        try await withStore(.sqlite) { store in
            var useCases = UseCases(store: store, passwords: PasswordHasher(cost: 4))
            useCases.toolSettings.secretBox = try SecretBox(keyBytes: SecretBox.generateKeyBytes())
            let tenant = try await Fixtures.createTenant(in: store).id
            _ = try await useCases.createSecret(
                name: "OPENAI_KEY", value: key, tenant: tenant, by: Caller(principal: .system, operation: "seed"))
            let waits = LockedValue<[Duration]>([])
            let policy = OutboundPolicy(allowedHosts: allowLoopback ? ["127.0.0.1"] : [])
            let client = ChatModelClient(
                httpClient: BuiltInToolbox.outboundClient, outbound: policy, logger: testLogger(),
                sleep: { wait in waits.withLock { $0.append(wait) } })
            let context = ToolCallContext(
                tenant: tenant, taskID: UUIDv7.make(), runID: UUIDv7.make(), instanceID: nil, timeout: .seconds(60),
                logger: testLogger())
            try await FakeOpenAI.run { server, url in
                try await body(
                    Harness(
                        toolbox: BuiltInToolbox(useCases: useCases, outbound: policy, chatClient: client),
                        client: client, context: context, waits: waits, server: server, url: url))
            }
        }
    }

    @Test func completesWithUsageAndTheKeyFromATenantSecret() async throws {
        try await Self.withHarness { harness in
            harness.server.usage = (prompt: 12, completion: 3)
            let output = try await harness.chat(
                harness.input(["system": "be brief", "temperature": .double(0.2), "max_tokens": .int(50)]))
            #expect(output["content"] == "echo: hello world")
            #expect(output["finish_reason"] == "stop")
            #expect(output["model"] == "gpt-test")
            #expect(output["attempts"] == .int(1))
            #expect(
                output["usage"] == ["prompt_tokens": .int(12), "completion_tokens": .int(3), "total_tokens": .int(15)])
            let request = try #require(harness.server.requests.first)
            #expect(request.path == "/v1/chat/completions" && request.method == "POST")
            #expect(request.authorization == "Bearer \(Self.key)")
            #expect(request.body?["model"] == "gpt-test")
            #expect(request.body?["temperature"] == .double(0.2))
            #expect(request.body?["max_tokens"] == .int(50))
            #expect(request.body?["stream"] == nil)
            #expect(
                request.body?["messages"]
                    == .array([["role": "system", "content": "be brief"], ["role": "user", "content": "hello world"]]))
        }
    }

    @Test func streamsDeltasInOrderToTheContextsOutput() async throws {
        try await Self.withHarness { harness in
            harness.server.reply = "the quick brown fox"
            harness.server.usage = (prompt: 7, completion: 4)
            let deltas = LockedValue<[String]>([])
            var harness = harness
            harness.context.output = { delta in deltas.withLock { $0.append(delta) } }
            // No `stream` in the input: a listening caller means streaming.
            let output = try await harness.chat(harness.input(without: ["stream"]))
            let received = deltas.withLock { $0 }
            #expect(received == ["the", " quick", " brown", " fox"])
            #expect(output["content"] == .string(received.joined()))
            #expect(
                output["usage"] == ["prompt_tokens": .int(7), "completion_tokens": .int(4), "total_tokens": .int(11)])
            #expect(output["finish_reason"] == "stop")
            let body = harness.server.requests.first?.body
            #expect(body?["stream"] == .bool(true))
            #expect(body?["stream_options"]?["include_usage"] == .bool(true))
        }
    }

    @Test func aStreamWithoutDoneThatDeliveredContentCountsAsFinished() async throws {
        try await Self.withHarness { harness in
            harness.server.endsWithoutDone = true
            let output = try await harness.chat(harness.input(["stream": .bool(true)]))
            #expect(output["content"] == "echo: hello world")
            #expect(output["attempts"] == .int(1))
        }
    }

    @Test func honoursRetryAfterOnA429() async throws {
        try await Self.withHarness { harness in
            harness.server.enqueue(.status(429, retryAfter: "1"))
            let output = try await harness.chat(harness.input())
            #expect(output["attempts"] == .int(2))
            #expect(output["content"] == "echo: hello world")
            #expect(harness.waits.withLock { $0 } == [.seconds(1)])
            #expect(harness.server.requests.count == 2)
        }
    }

    @Test func backsOffExponentiallyOn5xx() async throws {
        try await Self.withHarness { harness in
            harness.server.enqueue(.status(500), .status(502))
            let output = try await harness.chat(harness.input(["stream": .bool(true)]))
            #expect(output["attempts"] == .int(3))
            #expect(output["content"] == "echo: hello world")
            #expect(harness.waits.withLock { $0 } == [.milliseconds(500), .seconds(1)])
        }
    }

    @Test func givesUpAfterMaxRetriesWhenTheEndpointKeepsFailing() async throws {
        try await Self.withHarness { harness in
            harness.server.alwaysStatus = 500
            let failure = try #require(await harness.failure(harness.input(["max_retries": .int(2)])))
            #expect(failure.retryable)
            #expect(failure.description.hasPrefix("llm.chat: "))
            #expect(failure.description.contains("answered 500: fake failure 500 (after 3 attempts)"))
            #expect(harness.server.requests.count == 3)
            #expect(harness.waits.withLock { $0 } == [.milliseconds(500), .seconds(1)])
        }
    }

    /// A 200 that is not a completion comes from a misconfigured endpoint: it fails at once, not retryable.
    @Test(arguments: [false, true]) func garbageFailsClearlyWithoutRetrying(stream: Bool) async throws {
        try await Self.withHarness { harness in
            harness.server.enqueue(.garbage)
            let failure = try #require(await harness.failure(harness.input(["stream": .bool(stream)])))
            #expect(!failure.retryable)
            #expect(failure.description.contains("not a chat completion"))
            #expect(failure.description.contains("surely not a chat completion"))
            #expect(harness.server.requests.count == 1)
        }
    }

    @Test func aHangingEndpointTimesOut() async throws {
        try await Self.withHarness { harness in
            harness.server.enqueue(.hang)
            let started = ContinuousClock.now
            let failure = try #require(await harness.failure(harness.input(["timeout_seconds": .int(1)])))
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(failure.retryable)
            #expect(failure.description.contains("timed out after 1 s"))
        }
    }

    @Test func aClientErrorFailsAtOnceWithTheProvidersMessage() async throws {
        try await Self.withHarness { harness in
            harness.server.enqueue(.status(400, message: "The model `nope` does not exist"))
            let failure = try #require(await harness.failure(harness.input()))
            #expect(!failure.retryable)
            #expect(failure.description.contains("answered 400: The model `nope` does not exist"))
            #expect(!failure.description.contains(Self.key))
            #expect(harness.server.requests.count == 1 && harness.waits.withLock { $0 }.isEmpty)
        }
    }

    @Test func loopbackIsRefusedUnlessAllowed() async throws {
        try await Self.withHarness(allowLoopback: false) { harness in
            let failure = try #require(await harness.failure(harness.input()))
            #expect(!failure.retryable)
            #expect(failure.description.contains("refused") && failure.description.contains("not a public address"))
            #expect(harness.server.requests.isEmpty)
            let probe = await harness.client.probe(baseURL: harness.url, apiKey: nil, timeout: .seconds(5))
            #expect(!probe.ready && probe.detail.hasPrefix("refused"))
        }
    }

    @Test func missingSettingsComeFromTheInstanceConfig() async throws {
        try await Self.withHarness { harness in
            var harness = harness
            harness.context.instanceConfig = [
                "endpoint": .string(harness.url.absoluteString), "model": "config-model",
                "api_key_secret": "OPENAI_KEY",
                "system_prompt": "You are terse.", "temperature": .double(0.5), "max_tokens": .int(20),
                "timeout_seconds": .int(30),
            ]
            let output = try await harness.chat(["prompt": "hi", "stream": .bool(false)])
            #expect(output["content"] == "echo: hi")
            let first = try #require(harness.server.requests.first)
            #expect(first.authorization == "Bearer \(Self.key)")
            #expect(first.body?["model"] == "config-model")
            #expect(first.body?["temperature"] == .double(0.5) && first.body?["max_tokens"] == .int(20))
            #expect(first.body?["messages"]?.arrayValue?.first == ["role": "system", "content": "You are terse."])
            // The input wins over the instance.
            _ = try await harness.chat([
                "prompt": "hi", "model": "input-model", "system": "Be loud.", "stream": .bool(false),
            ])
            let second = try #require(harness.server.requests.last)
            #expect(second.body?["model"] == "input-model")
            #expect(second.body?["messages"]?.arrayValue?.first == ["role": "system", "content": "Be loud."])
            // A wrongly typed value in the instance is named as the instance's.
            harness.context.instanceConfig?["max_tokens"] = "many"
            let failure = try #require(await harness.failure(["prompt": "hi"]))
            #expect(!failure.retryable && failure.description.contains("the instance's config 'max_tokens'"))
        }
    }

    @Test func badOrMissingInputFailsNamingTheField() async throws {
        try await Self.withHarness { harness in
            let cases: [([String: JSONValue], String)] = [
                (harness.input(without: ["model"]), "'model'"),
                (harness.input(without: ["endpoint"]), "'endpoint'"),
                (harness.input(["model": .int(5)]), "'model' must be a string"),
                (harness.input(["endpoint": "ftp://example.com"]), "'endpoint' must be an http(s) URL"),
                (harness.input(without: ["prompt"]), "'prompt' or 'messages'"),
                (harness.input(["messages": .array([["role": "user"]])]), "messages[0]"),
                (harness.input(["temperature": "hot"]), "'temperature'"),
                (harness.input(["timeout_seconds": .int(601)]), "'timeout_seconds'"),
                (harness.input(["max_retries": .int(11)]), "'max_retries'"),
                (harness.input(["stream": "yes"]), "'stream'"),
                (harness.input(["api_key_secret": "NO_SUCH_KEY"]), "no secret named 'NO_SUCH_KEY'"),
            ]
            for (input, named) in cases {
                let failure = await harness.failure(input)
                #expect(failure?.retryable == false, "\(named)")
                #expect(failure?.description.contains(named) == true, "\(String(describing: failure)) names \(named)")
            }
            #expect(harness.server.requests.isEmpty)
        }
    }

    @Test func probeAsksForTheModels() async throws {
        try await Self.withHarness { harness in
            let ready = await harness.client.probe(baseURL: harness.url, apiKey: Self.key, timeout: .seconds(5))
            #expect(ready.ready && ready.detail == "GET /models answered 200")
            #expect(harness.server.requests.first?.path == "/v1/models")
            #expect(harness.server.requests.first?.authorization == "Bearer \(Self.key)")
            harness.server.alwaysStatus = 503
            let down = await harness.client.probe(baseURL: harness.url, apiKey: nil, timeout: .seconds(5))
            #expect(!down.ready && down.detail.contains("503"))
        }
    }

    @Test(
        arguments: [
            ("1", Duration.seconds(1)), ("120", .seconds(120)), ("0", .zero), ("soon", nil),
            ("Wed, 21 Oct 2015 07:28:30 GMT", .seconds(30)), ("Wed, 21 Oct 2015 07:27:00 GMT", .zero),
        ] as [(String, Duration?)])
    func readsRetryAfter(header: String, wait: Duration?) {
        let now = Date(timeIntervalSince1970: 1_445_412_480)  // Wed, 21 Oct 2015 07:28:00 GMT
        #expect(ChatModelClient.retryAfter(header, now: now) == wait)
    }

    @Test func capsTheWaits() {
        #expect((1...8).map { ChatModelClient.backoff(afterAttempt: $0) }.last == .seconds(30))
        #expect(ChatModelClient.backoff(afterAttempt: 3) == .seconds(2))
        guard
            case .retry(let wait) = ChatModelClient.decide(
                .status(429, message: "slow down", retryAfter: .seconds(600)), attempt: 1, maxRetries: 3, host: "h")
        else { return #expect(Bool(false)) }
        #expect(wait == .seconds(60))
    }
}
