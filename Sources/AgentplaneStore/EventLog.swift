import AgentplaneCore

/// The durable, per-tenant ordered event log.
///
/// Adapters append inside the same transaction as the state change an event records. Readers never
/// miss an event: once a reader has seen sequence N, no event with sequence ≤ N becomes visible later.
public protocol EventLog: Sendable {
    /// Appends `events` atomically for `tenant` (all or none) and returns them with their sequences.
    func append(_ events: [NewEvent], tenant: TenantID) async throws -> [Event]
    /// Appends the record's events to the audit entry's tenant together with the audit row (a client
    /// publishing events is a mutation like any other).
    func publish(_ record: ChangeRecord) async throws -> [Event]
    /// Events of `tenant` matching `query`, ascending by sequence.
    func list(tenant: TenantID, query: EventQuery) async throws -> [Event]
    /// The highest sequence of `tenant` visible now (0 when the log is empty).
    func latestSequence(tenant: TenantID) async throws -> Int64
}
