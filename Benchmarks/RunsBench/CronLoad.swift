// `runs-bench cron-load BACKEND TASKS MINUTES` (see Schedules.swift).
import AgentplaneApp
import AgentplaneCore
import AgentplaneEngine
import AgentplaneServer
import AgentplaneStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

func cronLoadBenchmark(
    store: any Store, backend: String, tasks: Int, minutes: Int, logger: Logger
) async throws {
    let log = FireLog()
    let tenant = try await benchTenant(store, tasks: tasks)
    let created = ContinuousClock.now
    var ids = Set<String>()
    for _ in 0..<tasks {
        ids.insert(
            try await createBenchTask(store, tenant: tenant, kind: "cron", expression: "* * * * *").id.lowercasedString)
    }
    let createSeconds = (ContinuousClock.now - created) / .seconds(1)
    let (scheduler, worker) = scheduleServices(store, log: log, logger: logger, concurrency: 128)
    let start = Timestamp.now()
    // Measured over whole minutes: from the next minute boundary on.
    let firstMinute = (start.microsecondsSinceEpoch / 60_000_000 + 1) * 60_000_000
    let lastMinute = firstMinute + Int64(minutes - 1) * 60_000_000
    let horizon = Duration.microseconds(lastMinute - start.microsecondsSinceEpoch) + .seconds(20)
    try await runServices([scheduler, worker], logger: logger) { try await Task.sleep(for: horizon) }
    // Every run of every task, from the store (the handler's log misses runs still queued).
    var fires: [String: [Int64]] = [:]
    var lags: [Duration] = []
    for id in ids {
        guard let uuid = UUID(uuidString: id) else { continue }
        var before: UUID?
        while true {
            let page = try await store.runs.list(
                tenant: tenant, query: RunQuery(taskID: uuid, before: before, limit: 500))
            for run in page {
                guard let text = run.request.arguments["scheduled_at"]?.stringValue,
                    let scheduled = Timestamp(rfc3339: text)
                else { continue }
                fires[id, default: []].append(scheduled.microsecondsSinceEpoch)
                lags.append(
                    .microseconds(run.request.createdAt.microsecondsSinceEpoch - scheduled.microsecondsSinceEpoch))
            }
            guard page.count == 500, let last = page.last else { break }
            before = last.id
        }
    }
    let expected = Set(stride(from: firstMinute, through: lastMinute, by: 60_000_000))
    var duplicates = 0
    var missed = 0
    for id in ids {
        let times = fires[id] ?? []
        duplicates += times.count - Set(times).count
        missed += expected.subtracting(times).count
    }
    let started = log.starts.withLock { $0 }.map {
        Duration.microseconds($0.started.microsecondsSinceEpoch - $0.scheduled.microsecondsSinceEpoch)
    }
    print(
        String(
            format:
                "| %@ | %d cron tasks × %d min%@ | created in %.1f s | fires %d | duplicates %d | missed %d | enqueued late p50 %.0f ms, p99 %.0f ms, max %.0f ms | started late p50 %.0f ms, p99 %.0f ms, max %.0f ms |",
            backend, tasks, minutes, "", createSeconds, lags.count,
            duplicates, missed, percentile(lags, 0.5), percentile(lags, 0.99), percentile(lags, 1.0),
            percentile(started, 0.5), percentile(started, 0.99), percentile(started, 1.0)))
}
