import AgentplaneCore

/// The durable, per-tenant ordered event log.
///
/// Adapters append inside the same transaction as the state change an event records. Readers never
/// miss an event: once a reader has seen position P, no event at or before P becomes visible later.
/// Appending takes no lock that another writer of the same tenant waits for.
public protocol EventLog: Sendable {
    /// Appends `events` atomically for `tenant` (all or none) and returns them with their positions.
    func append(_ events: [NewEvent], tenant: TenantID) async throws -> [Event]
    /// Appends the record's events to the audit entry's tenant together with the audit row (a client
    /// publishing events is a mutation like any other).
    func publish(_ record: ChangeRecord) async throws -> [Event]
    /// Events of `tenant` matching `query`, ascending by position, each holding its payload as the
    /// stored JSON text (`Event.dataJSON`).
    func list(tenant: TenantID, query: EventQuery) async throws -> [Event]
    /// The position of the latest event of `tenant` a reader may see now (`EventPosition.start` when
    /// there is none).
    func latestPosition(tenant: TenantID) async throws -> EventPosition
    /// Deletes up to `limit` events of any tenant recorded before `cutoff` (the retention sweep); answers how many.
    /// Readers resuming from a deleted position go on with the oldest event left.
    func purge(recordedBefore cutoff: Timestamp, limit: Int) async throws -> Int
}
