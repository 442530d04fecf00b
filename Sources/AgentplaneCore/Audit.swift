import Foundation

/// One audited mutation: who, what, when, from where, and the outcome (seed 004).
public struct AuditEntry: Sendable, Hashable {
    /// Row id (UUIDv7, time-ordered).
    public var id: UUID
    /// The tenant the mutation happened in.
    public var tenantID: TenantID
    /// When.
    public var occurredAt: Timestamp
    /// Who: the credential's id.
    public var principalID: String
    /// The API key prefix, when the caller used a key.
    public var keyPrefix: String?
    /// What: the operation (OpenAPI operationId).
    public var operation: String
    /// The kind of resource, e.g. `tenant`.
    public var resourceType: String
    /// Its id, when known.
    public var resourceID: String?
    /// From where: the request id.
    public var requestID: String?
    /// From where: the client address.
    public var clientAddress: String?
    /// `success` or `failure`.
    public var outcome: AuditOutcome
    /// The HTTP status answered.
    public var status: Int
    /// Extra, secret-free context.
    public var details: JSONValue

    /// Creates an entry.
    public init(
        id: UUID = UUIDv7.make(),
        tenantID: TenantID,
        occurredAt: Timestamp = .now(),
        principalID: String,
        keyPrefix: String?,
        operation: String,
        resourceType: String,
        resourceID: String?,
        requestID: String?,
        clientAddress: String?,
        outcome: AuditOutcome,
        status: Int,
        details: JSONValue = .object([:])
    ) {
        self.id = id
        self.tenantID = tenantID
        self.occurredAt = occurredAt
        self.principalID = principalID
        self.keyPrefix = keyPrefix
        self.operation = operation
        self.resourceType = resourceType
        self.resourceID = resourceID
        self.requestID = requestID
        self.clientAddress = clientAddress
        self.outcome = outcome
        self.status = status
        self.details = details
    }
}

/// Whether an audited mutation took effect.
public enum AuditOutcome: String, Sendable, CaseIterable, Codable {
    case success
    case failure
}

/// What a mutation records besides its state change, in the same transaction: events and an audit row.
public struct ChangeRecord: Sendable {
    /// Events to append (in the tenant of the audit entry unless they say otherwise).
    public var events: [NewEvent]
    /// The audit row.
    public var audit: AuditEntry
    /// Work the change causes, enqueued in its transaction (a run whose dedupe key is held inside its
    /// window is skipped).
    public var runs: [NewRun]
    /// The command this change completes, written in its transaction (a command already ended fails it).
    public var commandCompletion: CommandCompletion?

    /// Creates a record.
    public init(
        events: [NewEvent], audit: AuditEntry, runs: [NewRun] = [], commandCompletion: CommandCompletion? = nil
    ) {
        self.events = events
        self.audit = audit
        self.runs = runs
        self.commandCompletion = commandCompletion
    }
}
