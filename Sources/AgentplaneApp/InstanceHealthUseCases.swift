import AgentplaneCore
import AgentplaneStore
import Foundation

/// An instance's health as `GET /api/v1/instances/{id}/health` answers it.
public struct InstanceHealthReport: Sendable {
    /// The instance as it is.
    public var instance: Instance
    /// Whether it is activated (only active instances are probed).
    public var active: Bool
    /// Its kept checks, newest first.
    public var checks: [InstanceHealthCheck]
    /// Unhealthy checks in a row at the head of `checks`.
    public var consecutiveFailures: Int
    /// The policy the probes follow.
    public var policy: InstanceHealthPolicy
}

extension UseCases {
    /// The instance's health (its kept checks, newest first) for the acting tenant; else 404.
    public func instanceHealth(_ id: UUID, tenant named: TenantID?, for caller: Caller) async throws
        -> InstanceHealthReport
    {
        let instance = try await instance(id, tenant: named, for: caller)
        let activation = try await store.activations.find(tenant: instance.tenantID, instance: id)
        let checks = try await store.instanceHealth.recent(
            tenant: instance.tenantID, instance: id, limit: healthPolicy.keep)
        return InstanceHealthReport(
            instance: instance, active: activation?.active ?? false, checks: checks,
            consecutiveFailures: InstanceHealthDecisions.consecutiveFailures(checks), policy: healthPolicy)
    }

    /// Records a probe's check and applies what it means (health monitoring's worker): the check, its pruning
    /// and `instance.health_changed` commit together; then a status change it causes (`running → failed`, or
    /// recovery `failed → pending` with a provisioning run) commits with its events and audit row. A status
    /// changed by someone else in between wins: the next probe decides again. Nil when the instance is gone.
    @discardableResult
    public func recordHealth(_ check: InstanceHealthCheck, by caller: Caller) async throws -> HealthVerdict? {
        guard let current = try await store.instances.find(tenant: check.tenantID, id: check.instanceID) else {
            return nil
        }
        let previous = try await store.instanceHealth.recent(
            tenant: check.tenantID, instance: check.instanceID, limit: healthPolicy.keep)
        let verdict = InstanceHealthDecisions.assess(
            check, previous: previous, status: current.status, statusReason: current.statusReason,
            threshold: healthPolicy.failureThreshold)
        let now = clock.now()
        do {
            try await store.instanceHealth.record(
                check, keep: healthPolicy.keep,
                events: InstanceHealthDecisions.events(verdict, check: check, context: caller.eventContext, now: now))
        } catch let error as StoreError where error.kind == .notFound {
            return nil  // deleted meanwhile
        }
        do {
            guard
                let change = try InstanceHealthDecisions.change(
                    verdict, current: current, context: caller.eventContext, now: now)
            else { return verdict }
            // Recovery is provisioned again, as a start is.
            let runs = change.state.status == .pending ? [PlatformRuns.provision(change.state, at: now)] : []
            _ = try await save(change, current: current, by: caller, runs: runs, now: now)
        } catch let error as AgentplaneError
            where error.code == .preconditionFailed || error.code == .illegalTransition
        {
            return verdict  // changed meanwhile
        } catch let error as StoreError where error.kind == .notFound || error.kind == .staleVersion {
            return verdict  // deleted or changed meanwhile
        }
        return verdict
    }
}
