/// Quota values a command sets; nil keeps the current (or default) value.
public struct QuotaPatch: Sendable, Hashable {
    /// Most instances.
    public var maxInstances: Int?
    /// Most tasks.
    public var maxTasks: Int?
    /// Most knowledge-base entries.
    public var maxKnowledgeBaseEntries: Int?
    /// Requests per minute.
    public var requestsPerMinute: Int?

    /// Creates a patch.
    public init(
        maxInstances: Int? = nil, maxTasks: Int? = nil, maxKnowledgeBaseEntries: Int? = nil,
        requestsPerMinute: Int? = nil
    ) {
        self.maxInstances = maxInstances
        self.maxTasks = maxTasks
        self.maxKnowledgeBaseEntries = maxKnowledgeBaseEntries
        self.requestsPerMinute = requestsPerMinute
    }

    /// `base` with this patch's values.
    public func applied(to base: TenantQuotas) -> TenantQuotas {
        TenantQuotas(
            maxInstances: maxInstances ?? base.maxInstances,
            maxTasks: maxTasks ?? base.maxTasks,
            maxKnowledgeBaseEntries: maxKnowledgeBaseEntries ?? base.maxKnowledgeBaseEntries,
            requestsPerMinute: requestsPerMinute ?? base.requestsPerMinute
        )
    }
}

/// Create a tenant.
public struct CreateTenant: Sendable, Hashable {
    /// URL-safe unique name.
    public var slug: String
    /// Display name.
    public var name: String
    /// Initial status (default active).
    public var status: TenantStatus?
    /// Quotas (defaults for what is not set).
    public var quotas: QuotaPatch?

    /// Creates the command.
    public init(slug: String, name: String, status: TenantStatus? = nil, quotas: QuotaPatch? = nil) {
        self.slug = slug
        self.name = name
        self.status = status
        self.quotas = quotas
    }
}

/// Change a tenant's name, status or quotas.
public struct UpdateTenant: Sendable, Hashable {
    /// New name.
    public var name: String?
    /// New status.
    public var status: TenantStatus?
    /// New quotas.
    public var quotas: QuotaPatch?
    /// The version the caller read (`If-Match`); nil: the current one.
    public var expectedVersion: Int64?

    /// Creates the command.
    public init(
        name: String? = nil, status: TenantStatus? = nil, quotas: QuotaPatch? = nil, expectedVersion: Int64? = nil
    ) {
        self.name = name
        self.status = status
        self.quotas = quotas
        self.expectedVersion = expectedVersion
    }
}

/// A versioned change a decision produced: the new state, the version it replaces, its events.
public struct Change<State: Sendable>: Sendable {
    /// The state to store.
    public var state: State
    /// The stored version the write is conditioned on.
    public var expectedVersion: Int64
    /// Events to append with it.
    public var events: [NewEvent]

    /// Creates a change.
    public init(state: State, expectedVersion: Int64, events: [NewEvent]) {
        self.state = state
        self.expectedVersion = expectedVersion
        self.events = events
    }
}

/// The rules of tenants.
public enum TenantDecisions {
    /// A new tenant and `tenant.created`.
    public static func create(_ command: CreateTenant, context: EventContext, now: Timestamp)
        throws(AgentplaneError) -> (Tenant, [NewEvent])
    {
        let quotas = command.quotas?.applied(to: .defaults) ?? .defaults
        let errors =
            TenantValidation.slugErrors(command.slug) + TenantValidation.nameErrors(command.name) + quotas.errors()
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        let tenant = Tenant(
            id: TenantID(UUIDv7.make(at: now)),
            slug: command.slug,
            name: command.name,
            status: command.status ?? .active,
            quotas: quotas,
            version: 1,
            createdAt: now,
            updatedAt: now
        )
        return (tenant, [Events.tenant(.tenantCreated, tenant, context: context, at: now)])
    }

    /// The changed tenant and `tenant.updated`; the platform tenant stays active.
    public static func update(_ command: UpdateTenant, current: Tenant, context: EventContext, now: Timestamp)
        throws(AgentplaneError) -> Change<Tenant>
    {
        var next = current
        if let name = command.name { next.name = name }
        if let status = command.status { next.status = status }
        if let quotas = command.quotas { next.quotas = quotas.applied(to: current.quotas) }
        next.updatedAt = now
        let errors = (command.name.map { TenantValidation.nameErrors($0) } ?? []) + next.quotas.errors()
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        if current.id == .platform, next.status != .active {
            throw AgentplaneError(.conflict, "The platform tenant cannot be suspended.")
        }
        return Change(
            state: next,
            expectedVersion: command.expectedVersion ?? current.version,
            events: [Events.tenant(.tenantUpdated, next, context: context, at: now)]
        )
    }

    /// `tenant.deleted`; the platform tenant cannot be deleted.
    public static func delete(_ current: Tenant, context: EventContext, now: Timestamp) throws(AgentplaneError)
        -> [NewEvent]
    {
        guard current.id != .platform else {
            throw AgentplaneError(.conflict, "The platform tenant cannot be deleted.")
        }
        return [Events.tenant(.tenantDeleted, current, context: context, at: now)]
    }

    /// Whether `principal` may see `tenant`: platform admins see all, others only their own.
    public static func isVisible(_ tenant: TenantID, to principal: Principal) -> Bool {
        principal.isPlatformAdmin || tenant == principal.tenantID
    }
}
