import AgentplaneCore
import AgentplaneStore
import Logging
import ServiceLifecycle

/// Deletes expired idempotency records (kept 24 h), in bounded batches, so the table does not grow
/// with every POST ever made.
public struct IdempotencyKeySweeper: Service {
    let store: any Store
    let interval: Duration
    let batchSize: Int
    let logger: Logger
    let clock: any WallClock

    /// Creates the sweeper, reading time from `clock`.
    public init(
        store: any Store, interval: Duration = .seconds(600), batchSize: Int = 1000, logger: Logger,
        clock: any WallClock = SystemWallClock()
    ) {
        self.store = store
        self.clock = clock
        self.interval = interval
        self.batchSize = batchSize
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let purged = try await runOnce(now: clock.now())
                    if purged > 0 { logger.debug("purged expired idempotency keys", metadata: ["count": "\(purged)"]) }
                } catch {
                    logger.warning("idempotency sweep failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// One sweep: deletes batches until none is full; returns how many records went.
    public func runOnce(now: Timestamp) async throws -> Int {
        var total = 0
        while true {
            let purged = try await store.idempotency.purgeExpired(now: now, limit: batchSize)
            total += purged
            if purged < batchSize || Task.isCancelled { return total }
        }
    }
}
