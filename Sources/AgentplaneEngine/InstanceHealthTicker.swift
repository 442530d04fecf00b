import AgentplaneCore
import AgentplaneStore
import Logging
import ServiceLifecycle

/// Enqueues the health sweep (`instance.health_sweep`) once per interval. Every node with a worker runs a
/// ticker; the sweep's dedupe key (one per interval) keeps a single sweep per interval fleet-wide, as
/// `MaintenanceTicker` does for maintenance.
public struct InstanceHealthTicker: Service {
    let store: any Store
    let policy: InstanceHealthPolicy
    let clock: any WallClock
    let logger: Logger

    /// Creates the ticker; it does nothing when the policy turns monitoring off.
    public init(store: any Store, policy: InstanceHealthPolicy, clock: any WallClock, logger: Logger) {
        self.store = store
        self.policy = policy
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        guard policy.enabled else {
            try? await gracefulShutdown()  // returning at once would end the service group
            return
        }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await enqueueOnce()
                } catch {
                    logger.warning("enqueuing the health sweep failed", metadata: ["error": "\(error)"])
                }
                // Wakes at the next interval's start (the slots are aligned on the wall clock).
                let now = clock.now()
                let next = policy.slot(of: now).microsecondsSinceEpoch + policy.intervalMicroseconds
                try? await Task.sleep(for: .microseconds(max(next - now.microsecondsSinceEpoch, 1000)))
            }
        }
    }

    /// Enqueues this interval's sweep (a no-op when another node already did); nil when no instance is active
    /// (a fleet without any enqueues nothing).
    @discardableResult
    public func enqueueOnce() async throws -> Run? {
        guard try await !store.activations.listActive(after: nil, limit: 1).isEmpty else { return nil }
        let now = clock.now()
        let runs = try await store.runs.enqueue([
            PlatformRuns.healthSweepRun(slot: policy.slot(of: now), policy: policy, at: now)
        ])
        return runs.first
    }
}
