// `runs-bench latency BACKEND BACKLOG SAMPLES`: enqueue → start latency of single runs, first on an
// idle queue, then while one tenant's BACKLOG runs drain (fair share: another tenant's run should
// start within a claim or two, not behind the backlog).
import AgentplaneCore
import AgentplaneEngine
import AgentplaneStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Enqueue instants of probe runs, and the latencies measured when their handler starts.
final class Probes: Sendable {
    let state = Mutex<(enqueued: [UUID: ContinuousClock.Instant], latencies: [Duration])>(([:], []))
    let started = RunWakeup()

    func enqueued(_ id: UUID, at instant: ContinuousClock.Instant) {
        state.withLock { $0.enqueued[id] = instant }
    }

    func start(_ id: UUID) {
        let now = ContinuousClock.now
        state.withLock { state in
            if let at = state.enqueued.removeValue(forKey: id) { state.latencies.append(now - at) }
        }
        started.signal()
    }

    func take() -> [Duration] {
        state.withLock { state in
            defer { state.latencies = [] }
            return state.latencies
        }
    }
}

func percentile(_ values: [Duration], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    let index = min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)
    return Double(sorted[max(index, 0)].components.attoseconds) / 1e15 + Double(
        sorted[max(index, 0)].components.seconds) * 1000
}

func latencyBenchmark(store: any Store, backend: String, backlog: Int, samples: Int, logger: Logger) async throws {
    let probes = Probes()
    let backlogLeft = Mutex(backlog)
    let drained = RunWakeup()
    let worker = RunWorker(
        store: store,
        handlers: [
            "bench.probe": { context in
                probes.start(context.run.id)
                return .null
            },
            "bench.noop": { _ in
                if backlogLeft.withLock({
                    $0 -= 1
                    return $0
                }) == 0 {
                    drained.signal()
                }
                return .null
            },
        ],
        settings: RunWorkerSettings(workerID: "bench", concurrency: 8), logger: logger)
    let group = ServiceGroup(
        configuration: ServiceGroupConfiguration(services: [.init(service: worker)], logger: logger))
    let workerTask = Task { try await group.run() }
    let quiet = TenantID(UUIDv7.make())
    let busy = TenantID(UUIDv7.make())
    func probe() async throws {
        let run = NewRun(kind: "bench.probe", tenantID: quiet, runAt: .now(), createdAt: .now())
        probes.enqueued(run.id, at: .now)
        _ = try await store.runs.enqueue([run])
    }
    // Idle: one run at a time, each after the previous one started.
    try await Task.sleep(for: .milliseconds(500))
    for _ in 0..<samples {
        try await probe()
        await probes.started.wait(timeout: .seconds(5))
        try await Task.sleep(for: .milliseconds(2))
    }
    let idle = probes.take()
    // Fair share: the busy tenant's backlog, then a probe every 20 ms until it has drained.
    for start in stride(from: 0, to: backlog, by: 1000) {
        _ = try await store.runs.enqueue(
            (start..<min(start + 1000, backlog)).map { _ in
                NewRun(kind: "bench.noop", tenantID: busy, runAt: .now(), createdAt: .now())
            })
    }
    let drainStart = ContinuousClock.now
    while backlogLeft.withLock({ $0 }) > 0 {
        try await probe()
        try await Task.sleep(for: .milliseconds(20))
    }
    let drainSeconds = (ContinuousClock.now - drainStart) / .seconds(1)
    try await Task.sleep(for: .milliseconds(500))
    let shared = probes.take()
    await group.triggerGracefulShutdown()
    _ = try? await workerTask.value
    print(
        String(
            format:
                "| %@ | idle enqueue→start p50 %.2f ms, p99 %.2f ms (%d runs) | while %d runs of another tenant drain (%.1f s): p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d runs) |",
            backend, percentile(idle, 0.5), percentile(idle, 0.99), idle.count, backlog, drainSeconds,
            percentile(shared, 0.5), percentile(shared, 0.99), percentile(shared, 1.0), shared.count))
}
