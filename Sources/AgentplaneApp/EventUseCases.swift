import AgentplaneCore
import AgentplaneStore

/// An event a client publishes.
public struct PublishEvent: Sendable, Hashable {
    /// The publisher's id (default: a new UUIDv7).
    public var id: String?
    /// Dotted type.
    public var type: String
    /// What it is about.
    public var subject: String?
    /// CloudEvents source.
    public var source: String?
    /// When it happened (default now).
    public var time: Timestamp?
    /// Payload (default `{}`).
    public var data: JSONValue?
    /// Correlation (default the request id).
    public var correlationID: String?
    /// Causation.
    public var causationID: String?

    /// Creates the command.
    public init(
        id: String? = nil, type: String, subject: String? = nil, source: String? = nil, time: Timestamp? = nil,
        data: JSONValue? = nil, correlationID: String? = nil, causationID: String? = nil
    ) {
        self.id = id
        self.type = type
        self.subject = subject
        self.source = source
        self.time = time
        self.data = data
        self.correlationID = correlationID
        self.causationID = causationID
    }
}

extension UseCases {
    /// A page of the acting tenant's log after a position (asked with one extra row).
    public func listEvents(_ query: EventQuery, tenant named: TenantID?, for caller: Caller) async throws
        -> Page<Event>
    {
        let tenant = try await actingTenant(named, for: caller)
        try EventValidation.validate(query)
        var probe = query
        probe.limit += 1
        return Page(fetched: try await store.events.list(tenant: tenant, query: probe), limit: query.limit)
    }

    /// Appends a client's event to the acting tenant's log, audited with it.
    public func publishEvent(_ command: PublishEvent, tenant named: TenantID?, by caller: Caller) async throws
        -> Event
    {
        let tenant = try await actingTenant(named, for: caller)
        let now = clock.now()
        let event = NewEvent(
            id: command.id ?? UUIDv7.make(at: now).lowercasedString,
            type: command.type,
            subject: command.subject,
            source: command.source,
            time: command.time ?? now,
            data: command.data ?? .object([:]),
            context: EventContext(
                correlationID: command.correlationID ?? caller.requestID,
                causationID: command.causationID,
                requestID: caller.requestID,
                userID: caller.principal.subject
            )
        )
        try EventValidation.validatePublished(event)
        let record = caller.record(
            AuditedResource(tenant: tenant, type: "event", id: event.id), status: 201, events: [event],
            details: .object(["type": .string(event.type)]), at: now)
        do {
            let published = try await store.events.publish(record)[0]
            taskSettings.wakeup.signal()  // event tasks see it at once
            return published
        } catch let error as StoreError where error.kind == .uniqueViolation(.eventID) {
            throw AgentplaneError(.eventIDConflict, "An event with this id already exists for the tenant.")
        }
    }

    /// Audit entries, newest first. Platform admins read every tenant unless they name one.
    public func listAuditLog(_ query: AuditQuery, tenant named: TenantID?, for caller: Caller) async throws
        -> Page<AuditEntry>
    {
        let tenant: TenantID? =
            caller.principal.isPlatformAdmin && named == nil ? nil : try await actingTenant(named, for: caller)
        var probe = query
        probe.limit += 1
        return Page(fetched: try await store.auditLog.list(tenant: tenant, query: probe), limit: query.limit)
    }
}
