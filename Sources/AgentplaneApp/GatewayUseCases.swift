import AgentplaneCore
import AgentplaneStore
import Foundation

extension UseCases {
    /// Registers the instance behind `/gateway/instances/{id}/…` (DESIGN §6): it must be running and declare a
    /// runtime. Activating an active instance changes nothing and records no event. The activation commits with
    /// its `instance.activated` event and audit row.
    public func activateInstance(_ id: UUID, tenant named: TenantID?, by caller: Caller) async throws
        -> InstanceActivation
    {
        let instance = try await instance(id, tenant: named, for: caller)
        let current = try await store.activations.find(tenant: instance.tenantID, instance: instance.id)
        let now = clock.now()
        guard
            let (next, events) = try GatewayDecisions.activate(
                instance, current: current, by: caller.principal.subject, context: caller.eventContext, now: now)
        else { return current ?? .never(instance) }
        return try await commit(next, events: events, of: instance, by: caller, now: now)
    }

    /// Removes the instance's gateway route; deactivating an inactive instance changes nothing.
    public func deactivateInstance(_ id: UUID, tenant named: TenantID?, by caller: Caller) async throws
        -> InstanceActivation
    {
        let instance = try await instance(id, tenant: named, for: caller)
        let current = try await store.activations.find(tenant: instance.tenantID, instance: instance.id)
        let now = clock.now()
        guard
            let (next, events) = GatewayDecisions.deactivate(
                instance, current: current, context: caller.eventContext, now: now)
        else { return current ?? .never(instance) }
        return try await commit(next, events: events, of: instance, by: caller, now: now)
    }

    /// The instance's activation (inactive when it was never activated); 404 for an instance the tenant lacks.
    public func activation(_ id: UUID, tenant named: TenantID?, for caller: Caller) async throws -> InstanceActivation {
        let instance = try await instance(id, tenant: named, for: caller)
        return try await store.activations.find(tenant: instance.tenantID, instance: instance.id) ?? .never(instance)
    }

    /// What a gateway call to instance `id` reaches: the instance of the caller's own tenant (never another's,
    /// whatever `X-Tenant-ID` says) and its runtime, if its route is active (`GatewayDecisions.admit`).
    public func gatewayTarget(_ id: UUID, for caller: Caller) async throws -> (Instance, InstanceRuntime) {
        let tenant = caller.principal.tenantID
        async let instance = store.instances.find(tenant: tenant, id: id)
        async let activation = store.activations.find(tenant: tenant, instance: id)
        let found = try await instance
        let runtime = try GatewayDecisions.admit(found, activation: try await activation)
        return (found!, runtime)
    }

    /// Active instances of every tenant (for health monitoring), ordered by id, after `after`.
    public func activeInstances(after: UUID?, limit: Int) async throws -> [ActiveInstance] {
        try await store.activations.listActive(after: after, limit: limit)
    }

    private func commit(
        _ next: InstanceActivation, events: [NewEvent], of instance: Instance, by caller: Caller, now: Timestamp
    ) async throws -> InstanceActivation {
        let saved = try await store.activations.save(
            next, record: caller.record(Self.resource(instance), status: 200, events: events, at: now))
        if saved { return next }
        // A concurrent call made the same change first: answer the stored state.
        return try await store.activations.find(tenant: instance.tenantID, instance: instance.id) ?? .never(instance)
    }
}
