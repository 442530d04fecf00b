import AgentplaneCore
import AgentplaneStore
import Foundation

extension UseCases {
    /// Creates an instance from an agent, with its knowledge base, within the tenant's quota.
    public func createInstance(_ command: CreateInstance, tenant named: TenantID?, by caller: Caller) async throws
        -> Instance
    {
        let tenantID = try await actingTenant(named, for: caller)
        var agent: Agent?
        if let id = command.agentUUID { agent = try await store.agents.find(id: id, includeDeleted: true) }
        let now = clock.now()
        let (instance, events) = try InstanceDecisions.create(
            command, agent: agent, tenant: tenantID, owner: caller.principal.subject,
            context: caller.eventContext, now: now)
        // The quota is read by the store in the same statement that counts the new instance.
        // Its provisioning run commits with it.
        try await store.instances.create(
            instance,
            record: caller.record(
                Self.resource(instance), status: 201, events: events,
                runs: [PlatformRuns.provision(instance, at: now)], at: now))
        return instance
    }

    /// The tenant's instances matching `query` (asked with one extra row).
    public func listInstances(_ query: InstanceQuery, tenant named: TenantID?, for caller: Caller) async throws
        -> Page<Instance>
    {
        let tenant = try await actingTenant(named, for: caller)
        var probe = query
        probe.limit += 1
        return Page(fetched: try await store.instances.list(tenant: tenant, query: probe), limit: query.limit)
    }

    /// One instance of the acting tenant (else 404).
    public func instance(_ id: UUID, tenant named: TenantID?, for caller: Caller) async throws -> Instance {
        let tenant = try await actingTenant(named, for: caller)
        guard let instance = try await store.instances.find(tenant: tenant, id: id) else {
            throw AgentplaneError(.notFound, "No such instance.")
        }
        return instance
    }

    /// Where each top-level key of the effective configuration comes from.
    public func explainConfig(of instance: Instance) async throws -> [String: ConfigMerge.Origin] {
        let agent = try await store.agents.find(id: instance.agentID, includeDeleted: true)
        return ConfigMerge.explain(defaults: agent?.defaultConfig ?? [:], overrides: instance.userConfig)
    }

    /// Changes an instance's name, project or configuration.
    public func updateInstance(_ id: UUID, _ command: UpdateInstance, tenant named: TenantID?, by caller: Caller)
        async throws -> Instance
    {
        let current = try await instance(id, tenant: named, for: caller)
        let agent = try await store.agents.find(id: current.agentID, includeDeleted: true)
        let now = clock.now()
        let change = try InstanceDecisions.update(
            command, current: current, agentDefaults: agent?.defaultConfig ?? [:], context: caller.eventContext,
            now: now)
        return try await save(change, current: current, by: caller, now: now)
    }

    /// Moves an instance to `status`, if its lifecycle allows (users: stop, start; workers: provisioning…).
    public func transitionInstance(_ id: UUID, to status: InstanceStatus, tenant named: TenantID?, by caller: Caller)
        async throws -> Instance
    {
        let current = try await instance(id, tenant: named, for: caller)
        let now = clock.now()
        let change = try InstanceDecisions.transition(current, to: status, context: caller.eventContext, now: now)
        // A start (back to `pending`) is provisioned again.
        let runs = change.state.status == .pending ? [PlatformRuns.provision(change.state, at: now)] : []
        return try await save(change, current: current, by: caller, runs: runs, now: now)
    }

    /// Deletes an instance with its knowledge base and its gateway activation.
    public func deleteInstance(_ id: UUID, tenant named: TenantID?, by caller: Caller) async throws {
        let current = try await instance(id, tenant: named, for: caller)
        let now = clock.now()
        // Its gateway activation goes with it (a foreign key), recorded as `instance.deactivated` when active.
        let activation = try await store.activations.find(tenant: current.tenantID, instance: current.id)
        let events =
            GatewayDecisions.deleted(activation, context: caller.eventContext, now: now)
            + InstanceDecisions.delete(current, context: caller.eventContext, now: now)
        try await store.instances.delete(
            tenant: current.tenantID, id: current.id,
            record: caller.record(
                Self.resource(current), status: 204, events: events,
                runs: [PlatformRuns.teardown(current, at: now)], at: now))
    }

    func save(
        _ change: Change<Instance>, current: Instance, by caller: Caller, runs: [NewRun] = [], now: Timestamp
    ) async throws -> Instance {
        try await checkingVersion(of: "instance", expected: change.expectedVersion, current: current.version) {
            try await store.instances.update(
                change.state,
                expectedVersion: change.expectedVersion,
                from: current.status,
                record: caller.record(
                    Self.resource(current), status: 200, events: change.events, runs: runs, at: now)
            )
        }
    }

    static func resource(_ instance: Instance) -> AuditedResource {
        AuditedResource(tenant: instance.tenantID, type: "instance", id: instance.id.lowercasedString)
    }
}
