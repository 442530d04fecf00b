import AgentplaneCore
import AgentplaneStore
import Logging
import ServiceLifecycle

/// Enqueues the platform's maintenance run once per period. Every node runs a ticker; the run's dedupe
/// key (one per period) keeps a single run per period and its concurrency key lets only one node
/// perform it at a time, fleet-wide: maintenance needs no leader election.
public struct MaintenanceTicker: Service {
    let store: any Store
    let period: Duration
    let clock: any WallClock
    let logger: Logger

    /// Creates the ticker (the default period is 5 minutes).
    public init(store: any Store, period: Duration = .seconds(300), clock: any WallClock, logger: Logger) {
        self.store = store
        self.period = period
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await enqueueOnce()
                } catch {
                    logger.warning("enqueuing maintenance failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: period)
            }
        }
    }

    /// Enqueues this period's run (a no-op when another node already did).
    @discardableResult
    public func enqueueOnce() async throws -> Run {
        let now = clock.now()
        let seconds = max(Int(period.components.seconds), 1)
        let periodMicros = Int64(seconds) * 1_000_000
        let slot = Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch / periodMicros * periodMicros)
        let runs = try await store.runs.enqueue([
            PlatformRuns.maintenanceRun(slot: slot, periodSeconds: seconds, at: now)
        ])
        return runs[0]
    }
}
