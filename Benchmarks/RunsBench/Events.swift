// Issue #10 item 8, event delivery, against running servers (Benchmarks/events.sh starts them):
//   runs-bench sse-latency URL SUBSCRIBERS EVENTS   SUBSCRIBERS SSE streams; EVENTS events published one at a time
//                                                   (POST /api/v1/events): POST sent → each stream's receipt,
//                                                   p50/p99/max over EVENTS × SUBSCRIBERS samples, and the POST's
//                                                   own round trip
//   runs-bench sse-idle URL SUBSCRIBERS SECONDS      holds SUBSCRIBERS idle streams open for SECONDS (the script
//                                                   reads the server's RSS meanwhile)
//   runs-bench fanout URL_A URL_B EVENTS             one stream on node B; events published on node A: POST sent on
//                                                   A → received on B, p50/p99/max
// The admin key comes from AGENTPLANE_BOOTSTRAP_KEY.
import AgentplaneCore
import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

/// Receipt times of the events of a run, by event id, per stream.
final class Receipts: Sendable {
    let times = Mutex<[String: [ContinuousClock.Instant]]>([:])
    let opened = Mutex(0)

    func record(_ id: String) {
        let now = ContinuousClock.now
        times.withLock { $0[id, default: []].append(now) }
    }
}

/// Opens an SSE stream and records each event's `"id":"bench-…"` as it arrives, until cancelled.
func follow(_ url: String, key: String, receipts: Receipts, client: HTTPClient) async throws {
    var request = HTTPClientRequest(url: url + "/api/v1/events/stream?type=bench.*")
    request.headers.add(name: "Authorization", value: "Bearer \(key)")
    let response = try await client.execute(request, timeout: .hours(1))
    guard response.status == .ok else { throw BenchFailure("stream answered \(response.status)") }
    var pending = ""
    var counted = false
    for try await chunk in response.body {
        pending += String(buffer: chunk)
        if !counted, pending.contains(": subscribed") {
            counted = true
            receipts.opened.withLock { $0 += 1 }
        }
        while let range = pending.range(of: "\n\n") {
            let block = pending[..<range.lowerBound]
            if let start = block.range(of: #""id":"bench-"#) {
                let rest = block[start.upperBound...]
                if let end = rest.firstIndex(of: "\"") { receipts.record("bench-" + rest[..<end]) }
            }
            pending = String(pending[range.upperBound...])
        }
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func publish(_ url: String, key: String, id: String, client: HTTPClient) async throws {
    var request = HTTPClientRequest(url: url + "/api/v1/events")
    request.method = .POST
    request.headers.add(name: "Authorization", value: "Bearer \(key)")
    request.headers.add(name: "Content-Type", value: "application/json")
    request.body = .bytes(ByteBuffer(string: #"{"id":"\#(id)","type":"bench.tick","data":{"n":1}}"#))
    let response = try await client.execute(request, timeout: .seconds(30))
    guard response.status == .created else { throw BenchFailure("publish answered \(response.status)") }
    _ = try await response.body.collect(upTo: 1 << 16)
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

/// Opens `count` streams on `url` and waits until each has said it is subscribed.
func openStreams(_ url: String, key: String, count: Int, receipts: Receipts, client: HTTPClient) async throws
    -> [Task<Void, any Error>]
{
    let tasks = (0..<count).map { _ in Task { try await follow(url, key: key, receipts: receipts, client: client) } }
    let deadline = ContinuousClock.now + .seconds(120)
    while receipts.opened.withLock({ $0 }) < count {
        guard ContinuousClock.now < deadline else { throw BenchFailure("streams did not open") }
        try await Task.sleep(for: .milliseconds(20))
    }
    return tasks
}

func eventsBenchmark(_ arguments: [String]) async throws {
    guard let key = ProcessInfo.processInfo.environment["AGENTPLANE_BOOTSTRAP_KEY"] else {
        throw BenchFailure("set AGENTPLANE_BOOTSTRAP_KEY to the servers' admin key")
    }
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 4096
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    let receipts = Receipts()
    switch arguments[1] {
    case "sse-latency", "fanout":
        let (publishURL, streamURL, subscribers, events) =
            arguments[1] == "fanout"
            ? (arguments[2], arguments[3], 1, Int(arguments[4]) ?? 100)
            : (arguments[2], arguments[2], Int(arguments[3]) ?? 100, Int(arguments[4]) ?? 1000)
        let streams = try await openStreams(
            streamURL, key: key, count: subscribers, receipts: receipts, client: client)
        var samples: [Double] = []
        var posts: [Double] = []
        let run = UUID().uuidString.prefix(8).lowercased()
        for index in 0..<events {
            let id = "bench-\(run)-\(index)"
            let sent = ContinuousClock.now
            try await publish(publishURL, key: key, id: id, client: client)
            posts.append(milliseconds(ContinuousClock.now - sent))
            let deadline = ContinuousClock.now + .seconds(30)
            while receipts.times.withLock({ $0[id]?.count ?? 0 }) < subscribers {
                guard ContinuousClock.now < deadline else { throw BenchFailure("event \(id) was not delivered") }
                await Task.yield()
            }
            let times = receipts.times.withLock { $0.removeValue(forKey: id) ?? [] }
            if index >= events / 10 { samples += times.map { milliseconds($0 - sent) } }  // the first tenth warms up
        }
        for stream in streams { stream.cancel() }
        samples.sort()
        posts.sort()
        print(
            String(
                format:
                    "%@ subscribers=%d events=%d samples=%d: POST sent → received p50 %.2f ms, p99 %.2f ms, max %.2f ms; POST round trip p50 %.2f ms, p99 %.2f ms",
                arguments[1], subscribers, events, samples.count, percentile(samples, 0.5), percentile(samples, 0.99),
                samples.last ?? .nan, percentile(posts, 0.5), percentile(posts, 0.99)))
    case "sse-idle":
        let subscribers = Int(arguments[3]) ?? 1000
        let streams = try await openStreams(
            arguments[2], key: key, count: subscribers, receipts: receipts, client: client)
        FileHandle.standardOutput.write(Data("sse-idle: \(subscribers) streams open\n".utf8))
        try await Task.sleep(for: .seconds(Int(arguments[4]) ?? 10))
        for stream in streams { stream.cancel() }
    default:
        throw BenchFailure("unknown benchmark \(arguments[1])")
    }
    try await client.shutdown()
}
