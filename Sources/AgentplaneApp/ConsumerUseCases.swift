import AgentplaneCore
import AgentplaneStore
import Foundation

/// A consumer with how far behind the log it is.
public struct ConsumerStatus: Sendable {
    /// The consumer.
    public var consumer: Consumer
    /// Events (of every type) after its committed offset that a reader may see now, up to the cap.
    public var lag: Int
    /// Whether there are more than `lag`.
    public var lagCapped: Bool
}

/// One batch of a consumer.
public struct ConsumerBatch: Sendable {
    /// The consumer (its offset as committed: reading does not move it).
    public var consumer: Consumer
    /// The matching events after the offset, in log order.
    public var events: [Event]
    /// What to ack once the batch is handled: the position of the last event examined (matching or not),
    /// or past the whole log read when the batch reached its end.
    public var nextOffset: EventPosition
}

/// What a client writes to create a consumer.
public struct ConsumerFields: Sendable, Hashable {
    /// The name.
    public var name: String
    /// Type patterns.
    public var eventTypes: [String]
    /// Exact subject.
    public var subject: String?
    /// `cloudevents` (default) or `seed000`.
    public var format: String?
    /// `beginning`, `end` (default) or a position.
    public var startAt: String?

    /// Creates the fields.
    public init(name: String, eventTypes: [String], subject: String?, format: String?, startAt: String?) {
        self.name = name
        self.eventTypes = eventTypes
        self.subject = subject
        self.format = format
        self.startAt = startAt
    }
}

extension UseCases {
    /// Creates a named consumer starting at `start_at` (default: the log's end).
    public func createConsumer(_ fields: ConsumerFields, tenant named: TenantID?, by caller: Caller) async throws
        -> ConsumerStatus
    {
        let tenant = try await actingTenant(named, for: caller)
        let start = try ConsumerStart(parsing: fields.startAt)
        let now = clock.now()
        // Checked before the log is read, so a bad filter is answered without touching it.
        _ = try ConsumerDecisions.create(
            name: fields.name, types: fields.eventTypes, subject: fields.subject, format: fields.format, offset: .start,
            tenant: tenant, now: now)
        let offset: EventPosition
        switch start {
        case .beginning: offset = .start
        case .end: offset = try await store.events.latestPosition(tenant: tenant)
        case .position(let position): offset = position
        }
        let consumer = try ConsumerDecisions.create(
            name: fields.name, types: fields.eventTypes, subject: fields.subject, format: fields.format,
            offset: offset, tenant: tenant, now: now)
        try await mappingConflicts([.consumerName: ("The tenant already has a consumer with this name.", "/name")]) {
            try await store.consumers.create(
                consumer, record: caller.record(Self.resource(consumer), status: 201, events: [], at: now))
        }
        return try await status(of: consumer)
    }

    /// The tenant's consumers by name, with their lag (asked with one extra row).
    public func listConsumers(after: String?, limit: Int, tenant named: TenantID?, for caller: Caller) async throws
        -> Page<ConsumerStatus>
    {
        let tenant = try await actingTenant(named, for: caller)
        let page = Page(
            fetched: try await store.consumers.list(tenant: tenant, after: after, limit: limit + 1), limit: limit)
        var statuses: [ConsumerStatus] = []
        for consumer in page.items { statuses.append(try await status(of: consumer)) }
        var answer = Page<ConsumerStatus>(fetched: [], limit: 0)
        answer.items = statuses
        answer.hasMore = page.hasMore
        return answer
    }

    /// One consumer with its lag (else 404).
    public func consumer(_ name: String, tenant named: TenantID?, for caller: Caller) async throws -> ConsumerStatus {
        try await status(of: try await storedConsumer(name, tenant: named, for: caller))
    }

    /// Removes a consumer.
    public func deleteConsumer(_ name: String, tenant named: TenantID?, by caller: Caller) async throws {
        let consumer = try await storedConsumer(name, tenant: named, for: caller)
        try await store.consumers.delete(
            tenant: consumer.tenantID, name: consumer.name,
            record: caller.record(Self.resource(consumer), status: 204, events: [], at: clock.now()))
    }

    /// The next batch of at most `limit` matching events after the committed offset (the offset does not move).
    public func consumerBatch(_ name: String, limit: Int, tenant named: TenantID?, for caller: Caller) async throws
        -> ConsumerBatch
    {
        let consumer = try await storedConsumer(name, tenant: named, for: caller)
        // Read first: every event at or before it is visible to the reads below (the log's reader guarantee).
        let latest = try await store.events.latestPosition(tenant: consumer.tenantID)
        var matched: [Event] = []
        var next = consumer.offset
        var examined = 0
        var reachedEnd = false
        let pageSize = EventQuery.maximumLimit
        reading: while examined < ConsumerDecisions.maximumExamined {
            let page = try await store.events.list(
                tenant: consumer.tenantID,
                query: EventQuery(
                    after: next, limit: pageSize, type: consumer.filter.exactType, subject: consumer.filter.subject))
            for event in page {
                examined += 1
                next = event.position
                if consumer.filter.matches(event) {
                    matched.append(event)
                    if matched.count == limit { break reading }
                }
            }
            if page.count < pageSize {
                reachedEnd = true
                break
            }
        }
        // The store filtered by type or subject: what it skipped up to the end read is handled too.
        if reachedEnd, latest > next { next = latest }
        return ConsumerBatch(consumer: consumer, events: matched, nextOffset: next)
    }

    /// Commits `offset` (see `ConsumerDecisions.ack`); a concurrent ack that moved it first answers 409.
    public func ackConsumer(
        _ name: String, offset text: String, rewind: Bool, tenant named: TenantID?, by caller: Caller
    ) async throws -> ConsumerStatus {
        let current = try await storedConsumer(name, tenant: named, for: caller)
        let latest = try await store.events.latestPosition(tenant: current.tenantID)
        let offset = try ConsumerDecisions.ack(text, rewind: rewind, consumer: current, latest: latest)
        let now = clock.now()
        var next = current
        next.offset = offset
        next.version = current.version + 1
        next.updatedAt = now
        next.ackedAt = now
        do {
            try await store.consumers.commit(
                next, expectedVersion: current.version,
                record: caller.record(
                    Self.resource(next), status: 200, events: [],
                    details: ["offset": .string(offset.description), "rewind": .bool(rewind)], at: now))
        } catch let error as StoreError where error.kind == .staleVersion {
            throw AgentplaneError(
                .conflict, "Another ack moved the consumer first; read it again.",
                fieldErrors: [FieldError(pointer: "/offset", message: "raced another ack")])
        }
        return try await status(of: next)
    }

    /// The consumer's lag (every event after its offset, capped).
    public func status(of consumer: Consumer) async throws -> ConsumerStatus {
        let cap = ConsumerDecisions.lagCap
        let lag = try await store.consumers.lag(tenant: consumer.tenantID, after: consumer.offset, cap: cap + 1)
        return ConsumerStatus(consumer: consumer, lag: min(lag, cap), lagCapped: lag > cap)
    }

    func storedConsumer(_ name: String, tenant named: TenantID?, for caller: Caller) async throws -> Consumer {
        let tenant = try await actingTenant(named, for: caller)
        guard ConsumerDecisions.isValidName(name),
            let consumer = try await store.consumers.find(tenant: tenant, name: name)
        else { throw AgentplaneError(.notFound, "No such consumer.") }
        return consumer
    }

    static func resource(_ consumer: Consumer) -> AuditedResource {
        AuditedResource(tenant: consumer.tenantID, type: "consumer", id: consumer.name)
    }
}
