// Issue #11 item 8: the agent runtime against a running server (Benchmarks/runtime.sh starts it).
//   runs-bench instance-runs URL RUNS CONCURRENCY noop|llm   instance runs per second in `wait` mode: a one-step
//                                    `log` pipeline (noop) or a chat instance on a fake OpenAI-compatible server
//                                    in this process (llm); CONCURRENCY clients each POST one run and wait for it
//   runs-bench first-chunk URL SAMPLES   a chat instance in `stream` mode: time from the POST to its first
//                                    `run.output` event (the fake model answers its first chunk at once)
//   runs-bench gateway URL CONNECTIONS REQUESTS   an upstream in this process, called directly and through
//                                    `/gateway/instances/{id}/…` by CONNECTIONS closed-loop clients: the added p50/p99
// The bootstrap admin key (AGENTPLANE_BOOTSTRAP_KEY) acts in a tenant of its own (X-Tenant-ID); platform admins are
// exempt from rate limits. The server must allow-list 127.0.0.1 for outbound calls.
import AgentplaneCore
import AgentplaneTesting
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// A client of the API in one tenant, as the bootstrap admin.
struct RuntimeBenchClient: Sendable {
    let url: String
    let key: String
    let tenant: String
    let http: HTTPClient
    /// A tenant admin's key (the gateway serves only the caller's own tenant). The tenant's `requests_per_minute` is
    /// the largest allowed and the server runs with `--rate-limit 0`, so the tenant's key is not rate limited.
    var tenantKey = ""

    static func make(_ url: String) async throws -> RuntimeBenchClient {
        guard let key = ProcessInfo.processInfo.environment["AGENTPLANE_BOOTSTRAP_KEY"] else {
            throw BenchFailure("set AGENTPLANE_BOOTSTRAP_KEY to the server's admin key")
        }
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let admin = RuntimeBenchClient(url: url, key: key, tenant: "", http: http)
        let slug = "bench-\(UUID().uuidString.prefix(8).lowercased())"
        let tenant = try await admin.send(
            .POST, "/api/v1/tenants",
            #"{"slug":"\#(slug)","name":"\#(slug)","quotas":{"requests_per_minute":10000000}}"#)
        guard let id = tenant.json?["id"]?.stringValue else { throw BenchFailure("tenant: \(tenant.text)") }
        var client = RuntimeBenchClient(url: url, key: key, tenant: id, http: http)
        let account = try await client.send(.POST, "/api/v1/service-accounts", #"{"name":"bench","role":"admin"}"#)
        guard let accountID = account.json?["id"]?.stringValue else { throw BenchFailure("account: \(account.text)") }
        let created = try await client.send(.POST, "/api/v1/service-accounts/\(accountID)/keys", "{}")
        guard let tenantKey = created.json?["key"]?.stringValue else { throw BenchFailure("key: \(created.text)") }
        client.tenantKey = tenantKey
        return client
    }

    struct Answer: Sendable {
        var status: Int
        var text: String
        var json: JSONValue? { JSONValue(parsing: text) }
    }

    func send(_ method: HTTPMethod, _ path: String, _ body: String? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: url + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        if !tenant.isEmpty { request.headers.add(name: "X-Tenant-ID", value: tenant) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await http.execute(request, timeout: .seconds(120))
        let bytes = try await response.body.collect(upTo: 1 << 24)
        return Answer(status: Int(response.status.code), text: String(buffer: bytes))
    }

    /// A running instance of a new agent with `defaults`, `config` and `pipeline`.
    func instance(defaults: String, config: String = "{}", pipeline: String = "{}") async throws -> String {
        let type = "bench-\(UUID().uuidString.prefix(8).lowercased())"
        let agent = try await send(
            .POST, "/api/v1/agents",
            #"{"type":"\#(type)","name":"Bench","category":"bench","is_active":true,"default_config":\#(defaults)}"#)
        guard let agentID = agent.json?["id"]?.stringValue else { throw BenchFailure("agent: \(agent.text)") }
        let created = try await send(
            .POST, "/api/v1/instances",
            #"{"agent_id":"\#(agentID)","name":"Bench","config":\#(config),"pipeline_config":\#(pipeline)}"#)
        guard let id = created.json?["id"]?.stringValue else { throw BenchFailure("instance: \(created.text)") }
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let status = try await send(.GET, "/api/v1/instances/\(id)").json?["status"]?.stringValue
            if status == "running" { return id }
            if status == "failed" { throw BenchFailure("the instance failed to provision") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchFailure("the instance did not reach running")
    }
}

func runtimeBenchmark(_ arguments: [String]) async throws {
    let client = try await RuntimeBenchClient.make(arguments[2])
    switch arguments[1] {
    case "instance-runs":
        try await instanceRunsBenchmark(
            client, runs: Int(arguments[3]) ?? 1000, concurrency: Int(arguments[4]) ?? 16,
            llm: arguments.count > 5 && arguments[5] == "llm")
    case "first-chunk":
        try await firstChunkBenchmark(client, samples: Int(arguments[3]) ?? 200)
    default:
        try await gatewayBenchmark(
            client, connections: Int(arguments[3]) ?? 100, requests: Int(arguments[4]) ?? 20_000)
    }
    try await client.http.shutdown()
}

/// Runs per second in `wait` mode.
func instanceRunsBenchmark(_ client: RuntimeBenchClient, runs: Int, concurrency: Int, llm: Bool) async throws {
    let model = llm ? try await FakeOpenAI.start() : nil
    let id: String
    if let model {
        id = try await client.instance(
            defaults: #"{"runtime":"chat","model":"fake-model","endpoint":"\#(model.baseURL.absoluteString)"}"#)
    } else {
        id = try await client.instance(
            defaults: #"{"runtime":"pipeline"}"#,
            pipeline: #"{"pipeline":[{"id":"noop","uses":"log","with":{"message":"${input.n}"}}]}"#)
    }
    let latencies = LockedValue<[Double]>([])
    let failures = LockedValue(0)
    let started = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for worker in 0..<concurrency {
            group.addTask {
                for n in stride(from: worker, to: runs, by: concurrency) {
                    let sent = ContinuousClock.now
                    let body = llm ? #"{"input":"hello \#(n)"}"# : #"{"input":{"n":\#(n)}}"#
                    let answer = try await client.send(.POST, "/api/v1/instances/\(id)/runs", body)
                    let took = milliseconds(ContinuousClock.now - sent)
                    latencies.withLock { $0.append(took) }
                    if answer.status != 200 || answer.json?["status"]?.stringValue != "succeeded" {
                        failures.withLock { $0 += 1 }
                    }
                }
            }
        }
        try await group.waitForAll()
    }
    let elapsed = milliseconds(ContinuousClock.now - started) / 1000
    let sorted = latencies.withLock { $0.sorted() }
    print(
        String(
            format: "instance-runs %@ runs=%d concurrency=%d: %.0f runs/s, p50 %.2f ms, p99 %.2f ms, failed %d",
            llm ? "llm" : "noop", runs, concurrency, Double(runs) / elapsed, percentile(sorted, 0.5),
            percentile(sorted, 0.99), failures.withLock { $0 }))
    try await model?.stop()
}

/// Time from the POST of a `stream` run to its first `run.output` message.
func firstChunkBenchmark(_ client: RuntimeBenchClient, samples: Int) async throws {
    let model = try await FakeOpenAI.start()
    model.reply = "one two three four five six seven eight"
    model.chunkDelay = .milliseconds(20)
    let id = try await client.instance(
        defaults: #"{"runtime":"chat","model":"fake-model","endpoint":"\#(model.baseURL.absoluteString)"}"#)
    var firsts: [Double] = []
    var totals: [Double] = []
    for n in 0..<samples {
        var request = HTTPClientRequest(url: client.url + "/api/v1/instances/\(id)/runs")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(client.key)")
        request.headers.add(name: "X-Tenant-ID", value: client.tenant)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"input":"sample \#(n)","mode":"stream"}"#))
        let sent = ContinuousClock.now
        let response = try await client.http.execute(request, timeout: .seconds(60))
        var seen = ""
        var first: Double?
        for try await chunk in response.body {
            seen += String(buffer: chunk)
            if first == nil, seen.contains("event: run.output") { first = milliseconds(ContinuousClock.now - sent) }
            if seen.contains("event: end") { break }
        }
        guard let first else { throw BenchFailure("sample \(n) streamed no output: \(seen.suffix(300))") }
        firsts.append(first)
        totals.append(milliseconds(ContinuousClock.now - sent))
    }
    firsts.sort()
    totals.sort()
    print(
        String(
            format:
                "first-chunk samples=%d (model: first chunk at once, then one per 20 ms, 8 chunks): first run.output p50 %.2f ms, p99 %.2f ms; whole stream p50 %.2f ms",
            samples, percentile(firsts, 0.5), percentile(firsts, 0.99), percentile(totals, 0.5)))
    try await model.stop()
}

/// The gateway's added latency: the same small JSON answer from an upstream in this process, directly and
/// through the gateway, each by CONNECTIONS closed-loop clients.
func gatewayBenchmark(_ client: RuntimeBenchClient, connections: Int, requests: Int) async throws {
    let router = Router()
    router.get("/agent/**") { _, _ -> Response in
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: #"{"answer":"ok"}"#)))
    }
    var logger = Logger(label: "upstream")
    logger.logLevel = .warning
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let upstream = Application(
        router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
    let serving = Task { try await upstream.runService() }
    var iterator = ports.makeAsyncIterator()
    guard let port = await iterator.next() else { throw BenchFailure("the upstream did not start") }
    // Its health probes (GET endpoint + health_path, every 30 s) must pass, or the instance fails mid-measurement.
    let id = try await client.instance(
        defaults: #"{"runtime":"http","endpoint":"http://127.0.0.1:\#(port)/agent","health_path":"/health"}"#)
    let activated = try await client.send(.POST, "/api/v1/instances/\(id)/activate")
    guard activated.status == 200 else { throw BenchFailure("activate: \(activated.text)") }
    func measure(_ url: String, authorized: Bool) async throws -> (rate: Double, sorted: [Double]) {
        let latencies = LockedValue<[Double]>([])
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<connections {
                group.addTask {
                    for _ in stride(from: worker, to: requests, by: connections) {
                        var request = HTTPClientRequest(url: url)
                        if authorized {
                            request.headers.add(name: "Authorization", value: "Bearer \(client.tenantKey)")
                        }
                        let sent = ContinuousClock.now
                        let response = try await client.http.execute(request, timeout: .seconds(60))
                        let body = try await response.body.collect(upTo: 1 << 16)
                        guard response.status == .ok else {
                            throw BenchFailure("\(url) answered \(response.status): \(String(buffer: body))")
                        }
                        let took = milliseconds(ContinuousClock.now - sent)
                        latencies.withLock { $0.append(took) }
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = milliseconds(ContinuousClock.now - started) / 1000
        return (Double(requests) / elapsed, latencies.withLock { $0.sorted() })
    }
    // Warm each path, then measure: the upstream directly, through the gateway, and (for scale) an API read of
    // the instance with the same key.
    let directURL = "http://127.0.0.1:\(port)/agent/ask?q=1"
    let gatewayURL = client.url + "/gateway/instances/\(id)/ask?q=1"
    let apiURL = client.url + "/api/v1/instances/\(id)"
    _ = try await measure(directURL, authorized: false)
    _ = try await measure(gatewayURL, authorized: true)
    _ = try await measure(apiURL, authorized: true)
    let direct = try await measure(directURL, authorized: false)
    let gateway = try await measure(gatewayURL, authorized: true)
    let api = try await measure(apiURL, authorized: true)
    let (d50, d99) = (percentile(direct.sorted, 0.5), percentile(direct.sorted, 0.99))
    let (g50, g99) = (percentile(gateway.sorted, 0.5), percentile(gateway.sorted, 0.99))
    print(
        String(
            format:
                "gateway connections=%d requests=%d: direct %.0f req/s p50 %.2f ms p99 %.2f ms; gateway %.0f req/s p50 %.2f ms p99 %.2f ms; added p50 %.2f ms, p99 %.2f ms; API read of the instance %.0f req/s p50 %.2f ms p99 %.2f ms",
            connections, requests, direct.rate, d50, d99, gateway.rate, g50, g99, g50 - d50, g99 - d99, api.rate,
            percentile(api.sorted, 0.5), percentile(api.sorted, 0.99)))
    serving.cancel()
}
