import AgentplaneCore
import Foundation
import Metrics

/// The gateway's metrics (docs/operations.md), per tenant and instance: calls by status code, and the time to
/// the response head (for a run: to its end, or its timeout).
struct GatewayMetrics {
    let tenant: TenantID
    let instance: UUID

    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }

    func record(status: Int, since start: ContinuousClock.Instant) {
        let tenant = self.tenant.description
        let instance = self.instance.lowercasedString
        Counter(
            label: "agentplane_gateway_requests_total",
            dimensions: [("tenant", tenant), ("instance", instance), ("code", String(status))]
        ).increment()
        Metrics.Timer(
            label: "agentplane_gateway_request_duration_seconds",
            dimensions: [("tenant", tenant), ("instance", instance)]
        ).recordNanoseconds(Self.nanoseconds(ContinuousClock.now - start))
    }
}
