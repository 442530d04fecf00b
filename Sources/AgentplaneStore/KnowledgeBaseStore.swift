import AgentplaneCore
import Foundation

/// Persistence and search of knowledge-base entries.
public protocol KnowledgeBaseStore: Sendable {
    /// Inserts an entry, as it is (a `ready` one indexed), unless the tenant already has its
    /// `max_kb_entries` (read from the tenant row in the counter's own statement: an exact per-tenant
    /// counter, no lock across the request); throws `quotaExceeded`, or `notFound` when the instance
    /// does not exist. `records` are the steps that led to `entry` (created, then processed), each
    /// with its events and audit row, all in the one transaction.
    func create(_ entry: KnowledgeBaseEntry, records: [ChangeRecord]) async throws
    /// One entry of an instance.
    func find(tenant: TenantID, instance: UUID, id: UUID) async throws -> KnowledgeBaseEntry?
    /// An instance's entries ordered by id after `after`, optionally in one state.
    func list(tenant: TenantID, instance: UUID, after: UUID?, limit: Int, status: KBEntryStatus?) async throws
        -> [KnowledgeBaseEntry]
    /// Replaces content, metadata, status and version (`entry.version`, which must be above
    /// `expectedVersion`) when the stored version is `expectedVersion` and the stored status `from`; an
    /// entry that becomes `ready` is (re)indexed, any other state leaves the index. The status must be
    /// reachable through the entry lifecycle, or a re-queue of new content (`ready`/`failed` →
    /// `queued`). `records` are the steps taken, in order, written in the same transaction. Throws
    /// `notFound`, `staleVersion`, or the 409 `AgentplaneError`.
    func update(
        _ entry: KnowledgeBaseEntry, expectedVersion: Int64, from: KBEntryStatus, records: [ChangeRecord]
    ) async throws -> KnowledgeBaseEntry
    /// Deletes an entry and its index row; throws `notFound`.
    func delete(tenant: TenantID, instance: UUID, id: UUID, record: ChangeRecord) async throws
    /// Ready entries of the instance matching the words of `query`, best first.
    func search(tenant: TenantID, instance: UUID, query: String, limit: Int) async throws -> [KnowledgeBaseHit]
}

extension KnowledgeBaseStore {
    /// Inserts an entry with one record (`create(_:records:)`).
    public func create(_ entry: KnowledgeBaseEntry, record: ChangeRecord) async throws {
        try await create(entry, records: [record])
    }

    /// One step of an entry (`update(_:expectedVersion:from:records:)`).
    public func update(_ entry: KnowledgeBaseEntry, expectedVersion: Int64, from: KBEntryStatus, record: ChangeRecord)
        async throws -> KnowledgeBaseEntry
    {
        try await update(entry, expectedVersion: expectedVersion, from: from, records: [record])
    }
}

extension KBEntryStatus {
    /// The check every entry update goes through: states the lifecycle reaches from this one in one
    /// or more steps (an update may record queued → processing → ready at once), or new content
    /// re-queued.
    public func validateChange(to next: KBEntryStatus) throws {
        guard next != self, !((self == .ready || self == .failed) && next == .queued) else { return }
        var frontier = successors
        var seen: Set<KBEntryStatus> = []
        while let state = frontier.popFirst() {
            if state == next { return }
            if seen.insert(state).inserted { frontier.formUnion(state.successors.subtracting(seen)) }
        }
        _ = try transition(to: next)
    }
}

extension InstanceStatus {
    /// The check every instance update goes through.
    public func validateChange(to next: InstanceStatus) throws {
        guard next != self else { return }
        _ = try transition(to: next)
    }
}
