import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import Logging
import Metrics
import ServiceLifecycle

/// Publishes `agentplane_consumer_lag{tenant, consumer}`: events after each named consumer's committed
/// offset (capped like the API's lag), read periodically. At most `maximumSeries` consumers are reported
/// (by tenant and name), so the label set stays bounded however many consumers tenants create; a consumer
/// deleted since the last reading is set to zero.
public struct ConsumerLagMonitor: Service {
    let store: any Store
    let interval: Duration
    let logger: Logger

    /// The most consumers reported.
    public static let maximumSeries = 500

    /// Creates the monitor (every 15 s by default).
    public init(store: any Store, interval: Duration = .seconds(15), logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var seen = Set<[String]>()
            while !Task.isCancelled {
                do {
                    seen = try await publish(after: seen)
                } catch {
                    logger.warning("reading consumer lag failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// One reading; answers the series it set.
    func publish(after seen: Set<[String]>) async throws -> Set<[String]> {
        var current = Set<[String]>()
        for consumer in try await store.consumers.listAll(limit: Self.maximumSeries) {
            let lag = try await store.consumers.lag(
                tenant: consumer.tenantID, after: consumer.offset, cap: ConsumerDecisions.lagCap)
            let labels = [consumer.tenantID.description, consumer.name]
            current.insert(labels)
            Gauge(label: "agentplane_consumer_lag", dimensions: [("tenant", labels[0]), ("consumer", labels[1])])
                .record(lag)
        }
        for gone in seen.subtracting(current) {
            Gauge(label: "agentplane_consumer_lag", dimensions: [("tenant", gone[0]), ("consumer", gone[1])]).record(0)
        }
        return current
    }
}
