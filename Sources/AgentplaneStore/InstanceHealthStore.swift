import AgentplaneCore
import Foundation

/// Persistence of instances' health checks: the newest few per instance, removed with the instance.
public protocol InstanceHealthStore: Sendable {
    /// Stores `check` with `events` (its `instance.health_changed`, if any) in one transaction, and deletes the
    /// instance's checks beyond the newest `keep` in it. Throws `notFound` when the tenant has no such instance.
    func record(_ check: InstanceHealthCheck, keep: Int, events: [NewEvent]) async throws
    /// The instance's newest `limit` checks, newest first (none for another tenant's instance).
    func recent(tenant: TenantID, instance: UUID, limit: Int) async throws -> [InstanceHealthCheck]
}
