import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// The job engine's metrics (docs/operations.md): what each worker started and finished, and how long
/// runs took, per process; queue depth and the oldest waiting run, from the database (fleet-wide).
enum RunMetrics {
    static func started(_ kind: String) -> Counter {
        Counter(label: "agentplane_runs_started_total", dimensions: [("kind", kind)])
    }

    static func finished(_ kind: String, _ outcome: String) -> Counter {
        Counter(label: "agentplane_runs_finished_total", dimensions: [("kind", kind), ("outcome", outcome)])
    }

    static func duration(_ kind: String, _ outcome: String) -> Metrics.Timer {
        Metrics.Timer(label: "agentplane_run_duration_seconds", dimensions: [("kind", kind), ("outcome", outcome)])
    }

    static let outcomes = ["succeeded", "failed", "dead", "cancelled", "lost"]

    /// Creates every counter of `kinds` at zero, so the first dead letter already counts as an increase.
    static func prepare(kinds: some Sequence<String>) {
        for kind in kinds {
            _ = started(kind)
            for outcome in outcomes { _ = finished(kind, outcome) }
        }
    }

    /// What a completion counts as, given the run it ended (nil: a hand-back, not counted).
    static func outcome(of completion: RunCompletion, for run: Run) -> String? {
        switch completion {
        case .succeeded: "succeeded"
        case .failed(_, let retryable): retryable && run.hasAttemptsLeft ? "failed" : "dead"
        case .cancelled: "cancelled"
        case .handBack: nil
        }
    }
}

/// Publishes the queue's depth by kind and state (`agentplane_runs`) and the age of the oldest
/// claimable run whose time has come (`agentplane_runs_oldest_queued_age_seconds`), read from the
/// database on an interval, so every node exports the fleet's queue.
public struct RunQueueMonitor: Service {
    let store: any Store
    let interval: Duration
    let clock: any WallClock
    let logger: Logger

    /// Creates the monitor (every 10 s by default).
    public init(store: any Store, interval: Duration = .seconds(10), clock: any WallClock, logger: Logger) {
        self.store = store
        self.interval = interval
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var seen = Set<[String]>()
            var seenKinds = Set<String>()
            while !Task.isCancelled {
                do {
                    (seen, seenKinds) = try await publish(after: seen, kinds: seenKinds)
                } catch {
                    logger.warning("reading the queue depth failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// One reading; series seen before and now empty are set to zero.
    func publish(after seen: Set<[String]>, kinds seenKinds: Set<String>) async throws
        -> (Set<[String]>, Set<String>)
    {
        let depth = try await store.runs.depth()
        let now = clock.now()
        var current = Set<[String]>()
        var oldest: [String: Int64] = [:]
        for row in depth {
            current.insert([row.kind, row.status.rawValue])
            Gauge(label: "agentplane_runs", dimensions: [("kind", row.kind), ("status", row.status.rawValue)])
                .record(row.count)
            if row.status.isClaimable, let runAt = row.oldestRunAt {
                let age = max(now.microsecondsSinceEpoch - runAt.microsecondsSinceEpoch, 0)
                oldest[row.kind] = max(oldest[row.kind] ?? 0, age)
            }
        }
        for gone in seen.subtracting(current) {
            Gauge(label: "agentplane_runs", dimensions: [("kind", gone[0]), ("status", gone[1])]).record(0)
        }
        let kinds = seenKinds.union(oldest.keys)
        for kind in kinds {
            Gauge(label: "agentplane_runs_oldest_queued_age_seconds", dimensions: [("kind", kind)])
                .record(Double(oldest[kind] ?? 0) / 1_000_000)
        }
        return (current, kinds)
    }
}
