// Issue #10 item 8: webhook deliveries per second to a local receiver.
//   runs-bench webhooks URL EVENTS   a receiver (Hummingbird, answering 204) in this process; a webhook on the
//                                    server at URL pointing at it; EVENTS events published (16 publishers); the
//                                    time from the first delivery received to the last, and the deliveries/s
// The server must allow-list 127.0.0.1 for outbound calls (AGENTPLANE_OUTBOUND_ALLOW=127.0.0.1, events.sh does).
import AgentplaneCore
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

func webhookThroughputBenchmark(url: String, events: Int) async throws {
    guard let key = ProcessInfo.processInfo.environment["AGENTPLANE_BOOTSTRAP_KEY"] else {
        throw BenchFailure("set AGENTPLANE_BOOTSTRAP_KEY to the server's admin key")
    }
    let received = Mutex<(count: Int, first: ContinuousClock.Instant?, last: ContinuousClock.Instant?)>((0, nil, nil))
    let router = Router()
    router.post("/hook") { _, _ -> HTTPResponse.Status in
        let now = ContinuousClock.now
        received.withLock { state in
            state.count += 1
            if state.first == nil { state.first = now }
            state.last = now
        }
        return .noContent
    }
    var logger = Logger(label: "webhook-receiver")
    logger.logLevel = .warning
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let receiver = Application(
        router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
    let serving = Task { try await receiver.runService() }
    var iterator = ports.makeAsyncIterator()
    guard let port = await iterator.next() else { throw BenchFailure("the receiver did not start") }
    let client = HTTPClient(eventLoopGroupProvider: .singleton)
    var create = HTTPClientRequest(url: url + "/api/v1/webhooks")
    create.method = .POST
    create.headers.add(name: "Authorization", value: "Bearer \(key)")
    create.headers.add(name: "Content-Type", value: "application/json")
    create.body = .bytes(
        ByteBuffer(string: #"{"url":"http://127.0.0.1:\#(port)/hook","event_types":["bench.*"]}"#))
    let created = try await client.execute(create, timeout: .seconds(30))
    guard created.status == .created else { throw BenchFailure("creating the webhook answered \(created.status)") }
    let publishing = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for publisher in 0..<16 {
            group.addTask {
                for index in stride(from: publisher, to: events, by: 16) {
                    try await publish(url, key: key, id: "bench-hook-\(index)", client: client)
                }
            }
        }
        try await group.waitForAll()
    }
    let published = ContinuousClock.now - publishing
    let deadline = ContinuousClock.now + .seconds(600)
    while received.withLock({ $0.count }) < events {
        guard ContinuousClock.now < deadline else { throw BenchFailure("deliveries did not all arrive") }
        try await Task.sleep(for: .milliseconds(20))
    }
    let (count, first, last) = received.withLock { ($0.count, $0.first!, $0.last!) }
    let span = milliseconds(last - first) / 1000
    print(
        String(
            format:
                "webhooks events=%d delivered=%d: published in %.1f s; first → last delivery %.1f s, %.0f deliveries/s",
            events, count, milliseconds(published) / 1000, span, Double(count) / span))
    try await client.shutdown()
    serving.cancel()
}
