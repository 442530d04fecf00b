// Drains no-op runs through the real queue and worker, durably (issue #8 item 10).
//
// Usage: runs-bench sqlite|postgres RUNS TENANTS CONCURRENCY
//        runs-bench latency sqlite|postgres BACKLOG SAMPLES   (Latency.swift)
//        runs-bench rescue sqlite|postgres LEASE_SECONDS SAMPLES   (Rescue.swift)
// (postgres: DATABASE_URL names an empty database; run under scripts/with-postgres and create one).
// Prints one line: enqueue rate, drain rate (claimed, run and completed, events included), and the
// time from the first claim to the last completion.
import AgentplaneApp
import AgentplaneCore
import AgentplaneEngine
import AgentplaneServer
import AgentplaneStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

let arguments = CommandLine.arguments
if arguments.count == 4, arguments[1] == "webhooks" {
    // WebhookThroughput.swift: deliveries per second to a local receiver (issue #10).
    try await webhookThroughputBenchmark(url: arguments[2], events: Int(arguments[3]) ?? 5000)
    exit(0)
}
if arguments.count >= 4, ["instance-runs", "first-chunk", "gateway"].contains(arguments[1]) {
    // Runtime.swift: instance runs, first streamed chunk, gateway overhead (issue #11).
    try await runtimeBenchmark(arguments)
    exit(0)
}
if arguments.count == 5 || arguments.count == 4, ["sse-latency", "sse-idle", "fanout"].contains(arguments[1]) {
    // Events.swift: event delivery against running servers (issue #10).
    try await eventsBenchmark(arguments)
    exit(0)
}
if arguments.count == 4 || arguments.count == 5,
    ["schedule-latency", "cron-load", "pipeline"].contains(arguments[1])
{
    // Schedules.swift: the scheduler and pipeline benchmarks of issue #9.
    let directory = NSTemporaryDirectory() + "runs-bench-\(UUID().uuidString)"
    var logger = Logger(label: "runs-bench")
    logger.logLevel = .warning
    let url = arguments[2] == "postgres" ? ProcessInfo.processInfo.environment["DATABASE_URL"] : nil
    let configuration = try ServerConfiguration(dataDirectory: directory, databaseURL: url)
    let store = try Backend.open(configuration, logger: logger)
    let storeTask = Task { try await store.run() }
    _ = try await store.migrate()
    let first = Int(arguments[3]) ?? 0
    let second = arguments.count == 5 ? Int(arguments[4]) ?? 0 : 0
    switch arguments[1] {
    case "schedule-latency":
        try await scheduleLatencyBenchmark(store: store, backend: arguments[2], samples: first, logger: logger)
    case "cron-load":
        try await cronLoadBenchmark(store: store, backend: arguments[2], tasks: first, minutes: second, logger: logger)
    default:
        let useCases = UseCases(store: store, passwords: PasswordHasher(cost: 4))
        try await pipelineBenchmark(
            store: store, useCases: useCases, backend: arguments[2], steps: first, runs: second, logger: logger)
    }
    storeTask.cancel()
    try? FileManager.default.removeItem(atPath: directory)
    exit(0)
}
if arguments.count == 5, arguments[1] == "latency", let backlog = Int(arguments[3]), let samples = Int(arguments[4]) {
    let directory = NSTemporaryDirectory() + "runs-bench-\(UUID().uuidString)"
    var logger = Logger(label: "runs-bench")
    logger.logLevel = .warning
    let url = arguments[2] == "postgres" ? ProcessInfo.processInfo.environment["DATABASE_URL"] : nil
    let store = try Backend.open(try ServerConfiguration(dataDirectory: directory, databaseURL: url), logger: logger)
    let storeTask = Task { try await store.run() }
    _ = try await store.migrate()
    try await latencyBenchmark(store: store, backend: arguments[2], backlog: backlog, samples: samples, logger: logger)
    storeTask.cancel()
    try? FileManager.default.removeItem(atPath: directory)
    exit(0)
}
// The rescue benchmark, and the holding worker it starts as a child process: `hold BACKEND LOCATION
// LEASE_SECONDS`, LOCATION the parent's data directory or database URL.
if arguments.count == 5, arguments[1] == "rescue" || arguments[1] == "hold" {
    guard arguments[2] == "postgres" else {
        // The rescuer is a second node, and SQLite serves one node (its store refuses a second process).
        print("rescue needs two nodes on one database: postgres only")
        exit(2)
    }
    var logger = Logger(label: "runs-bench")
    logger.logLevel = .warning
    let backend = arguments[2]
    let holding = arguments[1] == "hold"
    let location =
        holding
        ? arguments[3]
        : backend == "postgres"
            ? ProcessInfo.processInfo.environment["DATABASE_URL"] ?? ""
            : NSTemporaryDirectory() + "runs-bench-\(UUID().uuidString)"
    let configuration =
        backend == "postgres"
        ? try ServerConfiguration(databaseURL: location) : try ServerConfiguration(dataDirectory: location)
    let store = try Backend.open(configuration, logger: logger)
    let storeTask = Task { try await store.run() }
    _ = try await store.migrate()
    if holding { try await holdRuns(store: store, leaseSeconds: Int(arguments[4]) ?? 30, logger: logger) }
    guard let lease = Int(arguments[3]), let samples = Int(arguments[4]) else { exit(2) }
    try await rescueBenchmark(
        store: store, backend: backend, location: location, leaseSeconds: lease, samples: samples, logger: logger)
    storeTask.cancel()
    if backend != "postgres" { try? FileManager.default.removeItem(atPath: location) }
    exit(0)
}
guard arguments.count == 5, let runs = Int(arguments[2]), let tenantCount = Int(arguments[3]),
    let concurrency = Int(arguments[4])
else {
    print("usage: runs-bench sqlite|postgres RUNS TENANTS CONCURRENCY")
    exit(2)
}
let directory = NSTemporaryDirectory() + "runs-bench-\(UUID().uuidString)"
let url = arguments[1] == "postgres" ? ProcessInfo.processInfo.environment["DATABASE_URL"] : nil
var logger = Logger(label: "runs-bench")
logger.logLevel = .warning
let configuration = try ServerConfiguration(dataDirectory: directory, databaseURL: url)
let store = try Backend.open(configuration, logger: logger)

final class Done: Sendable {
    let count = Mutex(0)
    let target: Int
    let finished = RunWakeup()
    init(target: Int) { self.target = target }
    func tick() {
        if count.withLock({
            $0 += 1
            return $0
        }) == target {
            finished.signal()
        }
    }
}

let storeTask = Task { try await store.run() }
_ = try await store.migrate()
let tenants = (0..<tenantCount).map { _ in TenantID(UUIDv7.make()) }
let enqueueStart = ContinuousClock.now
for start in stride(from: 0, to: runs, by: 500) {
    let batch = (start..<min(start + 500, runs)).map { i in
        NewRun(kind: "bench.noop", tenantID: tenants[i % tenantCount], runAt: .now(), createdAt: .now())
    }
    _ = try await store.runs.enqueue(batch)
}
let enqueueSeconds = (ContinuousClock.now - enqueueStart) / .seconds(1)
let done = Done(target: runs)
let worker = RunWorker(
    store: store,
    handlers: [
        "bench.noop": { _ in
            done.tick()
            return .null
        }
    ],
    settings: RunWorkerSettings(workerID: "bench", concurrency: concurrency), logger: logger)
let drainStart = ContinuousClock.now
let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [.init(service: worker)], logger: logger))
let workerTask = Task { try await group.run() }
while done.count.withLock({ $0 }) < runs { await done.finished.wait(timeout: .seconds(1)) }
// The last completions are reported by the worker's next loop: wait until the store says so.
while true {
    let depth = try await store.runs.depth()
    if !depth.contains(where: { $0.status == .queued || $0.status == .running }) { break }
    try await Task.sleep(for: .milliseconds(5))
}
let drainSeconds = (ContinuousClock.now - drainStart) / .seconds(1)
await group.triggerGracefulShutdown()
_ = try? await workerTask.value
storeTask.cancel()
print(
    String(
        format: "| %@ | %d runs | %d tenant(s) | concurrency %d | enqueue %.0f runs/s | drain %.0f runs/s (%.2f s) |",
        arguments[1], runs, tenantCount, concurrency, Double(runs) / enqueueSeconds, Double(runs) / drainSeconds,
        drainSeconds))
try? FileManager.default.removeItem(atPath: directory)
