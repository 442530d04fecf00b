import AgentplaneCore
import AgentplaneStore

extension UseCases {
    /// Tenants ordered by creation, after `after`.
    public func listTenants(after: TenantID?, limit: Int) async throws -> Page<Tenant> {
        Page(fetched: try await store.tenants.list(after: after, limit: limit + 1), limit: limit)
    }

    /// Creates a tenant (platform admins).
    public func createTenant(_ command: CreateTenant, by caller: Caller) async throws -> Tenant {
        let now = clock.now()
        let (tenant, events) = try TenantDecisions.create(command, context: caller.eventContext, now: now)
        try await mappingConflicts([.tenantSlug: ("A tenant with the slug `\(tenant.slug)` already exists.", "/slug")])
        {
            try await store.tenants.create(
                tenant, record: caller.record(Self.resource(tenant.id), status: 201, events: events, at: now))
        }
        return tenant
    }

    /// The tenant, when the caller may see it (else 404).
    public func tenant(_ id: TenantID, for caller: Caller) async throws -> Tenant {
        guard TenantDecisions.isVisible(id, to: caller.principal), let tenant = try await store.tenants.find(id: id)
        else { throw AgentplaneError(.notFound, "No such tenant.") }
        return tenant
    }

    /// Changes a tenant's name, status or quotas.
    public func updateTenant(_ id: TenantID, _ command: UpdateTenant, by caller: Caller) async throws -> Tenant {
        let current = try await tenant(id, for: caller)
        let now = clock.now()
        let change = try TenantDecisions.update(command, current: current, context: caller.eventContext, now: now)
        return try await checkingVersion(of: "tenant", expected: change.expectedVersion, current: current.version) {
            try await store.tenants.update(
                change.state,
                expectedVersion: change.expectedVersion,
                record: caller.record(Self.resource(id), status: 200, events: change.events, at: now)
            )
        }
    }

    /// Deletes a tenant (softly) and revokes its keys.
    public func deleteTenant(_ id: TenantID, by caller: Caller) async throws {
        let current = try await tenant(id, for: caller)
        let now = clock.now()
        let events = try TenantDecisions.delete(current, context: caller.eventContext, now: now)
        try await store.tenants.delete(
            id: id, at: now, record: caller.record(Self.resource(id), status: 204, events: events, at: now))
    }

    static func resource(_ tenant: TenantID) -> AuditedResource {
        AuditedResource(tenant: tenant, type: "tenant", id: tenant.description)
    }
}
