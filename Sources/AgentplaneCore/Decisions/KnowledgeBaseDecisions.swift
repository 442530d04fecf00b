import Foundation

/// Add an entry to an instance's knowledge base.
public struct CreateEntry: Sendable, Hashable {
    /// The text.
    public var content: String
    /// What it is (default document).
    public var dataType: KBDataType?
    /// Its language (default other).
    public var langHint: KBLangHint?
    /// Free-form metadata.
    public var metadata: [String: JSONValue]

    /// Creates the command.
    public init(
        content: String, dataType: KBDataType? = nil, langHint: KBLangHint? = nil,
        metadata: [String: JSONValue] = [:]
    ) {
        self.content = content
        self.dataType = dataType
        self.langHint = langHint
        self.metadata = metadata
    }
}

/// Change an entry; new content sends it through processing again.
public struct UpdateEntry: Sendable, Hashable {
    /// New text.
    public var content: String?
    /// New metadata (replaces the old).
    public var metadata: [String: JSONValue]?
    /// New data type.
    public var dataType: KBDataType?
    /// New language hint.
    public var langHint: KBLangHint?
    /// The version the caller read; nil: the current one.
    public var expectedVersion: Int64?

    /// Creates the command.
    public init(
        content: String? = nil, metadata: [String: JSONValue]? = nil, dataType: KBDataType? = nil,
        langHint: KBLangHint? = nil, expectedVersion: Int64? = nil
    ) {
        self.content = content
        self.metadata = metadata
        self.dataType = dataType
        self.langHint = langHint
        self.expectedVersion = expectedVersion
    }
}

/// The rules of knowledge-base entries.
public enum KnowledgeBaseDecisions {
    /// A new `queued` entry and `knowledge_base.entry.created`.
    public static func create(_ command: CreateEntry, in instance: Instance, context: EventContext, now: Timestamp)
        throws(AgentplaneError) -> (KnowledgeBaseEntry, [NewEvent])
    {
        let errors = KnowledgeBaseEntry.errors(content: command.content, metadata: command.metadata)
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        let entry = KnowledgeBaseEntry(
            id: UUIDv7.make(at: now),
            tenantID: instance.tenantID,
            instanceID: instance.id,
            content: command.content,
            dataType: command.dataType ?? .document,
            langHint: command.langHint ?? .other,
            status: .queued,
            failureReason: nil,
            metadata: command.metadata,
            version: 1,
            createdAt: now,
            updatedAt: now
        )
        return (entry, [Events.entry(.entryCreated, entry, of: instance, context: context, at: now)])
    }

    /// The changed entry; changed content re-queues it (only once processing has ended).
    public static func update(
        _ command: UpdateEntry, current: KnowledgeBaseEntry, in instance: Instance, context: EventContext,
        now: Timestamp
    ) throws(AgentplaneError) -> Change<KnowledgeBaseEntry> {
        var next = current
        if let content = command.content { next.content = content }
        if let metadata = command.metadata { next.metadata = metadata }
        if let dataType = command.dataType { next.dataType = dataType }
        if let langHint = command.langHint { next.langHint = langHint }
        let errors = KnowledgeBaseEntry.errors(content: next.content, metadata: next.metadata)
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        if next.content != current.content { next = try requeue(next, because: .contentChanged) }
        return change(next, current: current, in: instance, expectedVersion: command.expectedVersion, context, now)
    }

    /// Why an entry goes back to `queued`.
    public enum RequeueReason: Sendable {
        /// Its content changed: allowed once processing has ended (ready or failed).
        case contentChanged
        /// A caller retries a failed entry.
        case retry
    }

    /// The one re-queue rule: back to `queued` with no failure reason.
    public static func requeue(_ entry: KnowledgeBaseEntry, because reason: RequeueReason) throws(AgentplaneError)
        -> KnowledgeBaseEntry
    {
        var next = entry
        switch reason {
        case .retry:
            next.status = try entry.status.transition(to: .queued)
        case .contentChanged:
            guard entry.status == .ready || entry.status == .failed else {
                throw AgentplaneError(
                    .illegalTransition,
                    "The entry is \(entry.status.rawValue); change its content once processing ends.",
                    details: ["from": .string(entry.status.rawValue), "to": "queued"]
                )
            }
            next.status = .queued
        }
        next.failureReason = nil
        return next
    }

    /// A retry of a failed entry.
    public static func retry(
        _ current: KnowledgeBaseEntry, in instance: Instance, context: EventContext, now: Timestamp
    )
        throws(AgentplaneError) -> Change<KnowledgeBaseEntry>
    {
        change(
            try requeue(current, because: .retry), current: current, in: instance, expectedVersion: nil, context, now)
    }

    /// One processing step: `queued → processing`, then `processing → ready | failed`.
    public static func process(
        _ current: KnowledgeBaseEntry, in instance: Instance, context: EventContext, now: Timestamp
    )
        throws(AgentplaneError) -> Change<KnowledgeBaseEntry>
    {
        var next = current
        if current.status == .queued {
            next.status = try current.status.transition(to: .processing)
        } else if let reason = KnowledgeBaseEntry.indexingFailure(current.content) {
            next.status = try current.status.transition(to: .failed)
            next.failureReason = reason
        } else {
            next.status = try current.status.transition(to: .ready)
        }
        return change(next, current: current, in: instance, expectedVersion: nil, context, now)
    }

    /// `processing → failed` with `reason`: the entry's processing run ended `dead` (its workers kept
    /// stopping or failing), so the entry does not stay `processing`.
    public static func abandon(
        _ current: KnowledgeBaseEntry, reason: String, in instance: Instance, context: EventContext, now: Timestamp
    ) throws(AgentplaneError) -> Change<KnowledgeBaseEntry> {
        var next = current
        next.status = try current.status.transition(to: .failed)
        next.failureReason = reason
        return change(next, current: current, in: instance, expectedVersion: nil, context, now)
    }

    /// `knowledge_base.entry.deleted`.
    public static func delete(_ entry: KnowledgeBaseEntry, in instance: Instance, context: EventContext, now: Timestamp)
        -> [NewEvent]
    {
        [Events.entry(.entryDeleted, entry, of: instance, context: context, at: now)]
    }

    /// Field errors for a search.
    public static func searchErrors(query: String, limit: Int) -> [FieldError] {
        var errors: [FieldError] = []
        if !(1...100).contains(limit) {
            errors.append(FieldError(pointer: "limit", message: "must be between 1 and 100"))
        }
        if query.trimmingCharacters(in: .whitespaces).isEmpty || query.count > 500 {
            errors.append(FieldError(pointer: "q", message: "must be 1 to 500 characters"))
        }
        return errors
    }

    private static func change(
        _ next: KnowledgeBaseEntry, current: KnowledgeBaseEntry, in instance: Instance, expectedVersion: Int64?,
        _ context: EventContext, _ now: Timestamp
    ) -> Change<KnowledgeBaseEntry> {
        var next = next
        let expected = expectedVersion ?? current.version
        next.updatedAt = now
        next.version = expected + 1
        let events = Events.change(
            updated: Events.entry(.entryUpdated, next, of: instance, context: context, at: now),
            statusChanged: Events.entry(.entryStatusChanged, next, of: instance, context: context, at: now),
            from: current.status.rawValue,
            to: next.status.rawValue
        )
        return Change(state: next, expectedVersion: expected, events: events)
    }
}
