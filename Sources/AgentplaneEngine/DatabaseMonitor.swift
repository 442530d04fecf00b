import AgentplaneStore
import Logging
import Metrics
import ServiceLifecycle

/// Pings the database on an interval and publishes `agentplane_database_up` and the ping latency, so
/// an outage shows in metrics and logs even when no request arrives.
public struct DatabaseMonitor: Service {
    let store: any Store
    let interval: Duration
    let logger: Logger

    /// Creates the monitor.
    public init(store: any Store, interval: Duration = .seconds(5), logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        let up = Gauge(label: "agentplane_database_up")
        let latency = Metrics.Timer(label: "agentplane_database_ping_seconds")
        await cancelWhenGracefulShutdown {
            var wasUp = true
            while !Task.isCancelled {
                let isUp = await runOnce(latency: latency)
                up.record(isUp ? 1 : 0)
                if isUp != wasUp {
                    isUp ? logger.notice("database reachable again") : logger.error("database unreachable")
                    wasUp = isUp
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// One probe: whether the database answered.
    func runOnce(latency: Metrics.Timer) async -> Bool {
        let start = ContinuousClock.now
        do {
            try await store.ping()
            latency.recordInterval(since: start)
            return true
        } catch {
            return false
        }
    }
}

extension Metrics.Timer {
    fileprivate func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
