import AgentplaneAPI
import AgentplaneApp
import AgentplaneCore
import Foundation
import OpenAPIRuntime

extension APIHandler {
    func getInstanceHealth(_ input: Operations.GetInstanceHealth.Input) async throws
        -> Operations.GetInstanceHealth.Output
    {
        let report = try await useCases.instanceHealth(
            try Self.id(input.path.instanceId, "instance"), tenant: try Self.tenant(input.headers.xTenantID),
            for: try caller("getInstanceHealth"))
        return .ok(.init(body: .json(.init(report))))
    }
}

extension Components.Schemas.InstanceHealth {
    init(_ report: InstanceHealthReport) {
        let interval = report.policy.enabled ? Double(report.policy.intervalMicroseconds) / 1_000_000 : 0
        self.init(
            instanceId: report.instance.id.lowercasedString,
            status: .init(rawValue: report.instance.status.rawValue)!,
            statusReason: report.instance.statusReason,
            active: report.active,
            healthy: report.checks.first?.healthy,
            consecutiveFailures: report.consecutiveFailures,
            failureThreshold: report.policy.failureThreshold,
            intervalSeconds: interval,
            lastCheckedAt: report.checks.first?.checkedAt.date,
            checks: report.checks.map {
                .init(checkedAt: $0.checkedAt.date, healthy: $0.healthy, latencyMs: $0.latencyMs, detail: $0.detail)
            }
        )
    }
}
