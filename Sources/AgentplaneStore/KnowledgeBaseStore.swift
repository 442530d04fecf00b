import AgentplaneCore
import Foundation

/// Persistence and search of knowledge-base entries.
public protocol KnowledgeBaseStore: Sendable {
    /// Inserts an entry unless the tenant already has `maxEntries` (an exact per-tenant counter, no
    /// lock across the request); throws `quotaExceeded`, or `notFound` when the instance does not exist.
    func create(_ entry: KnowledgeBaseEntry, maxEntries: Int, record: ChangeRecord) async throws
    /// One entry of an instance.
    func find(tenant: TenantID, instance: UUID, id: UUID) async throws -> KnowledgeBaseEntry?
    /// An instance's entries ordered by id after `after`, optionally in one state.
    func list(tenant: TenantID, instance: UUID, after: UUID?, limit: Int, status: KBEntryStatus?) async throws
        -> [KnowledgeBaseEntry]
    /// Replaces content, metadata and status when the stored version is `expectedVersion` and the
    /// stored status `from`; an entry that becomes `ready` is (re)indexed, any other state leaves the
    /// index. A status change must be one the entry lifecycle allows, or a re-queue of new content
    /// (`ready`/`failed` → `queued`). Throws `notFound`, `staleVersion`, or the 409 `AgentplaneError`.
    func update(_ entry: KnowledgeBaseEntry, expectedVersion: Int64, from: KBEntryStatus, record: ChangeRecord)
        async throws -> KnowledgeBaseEntry
    /// Deletes an entry and its index row; throws `notFound`.
    func delete(tenant: TenantID, instance: UUID, id: UUID, record: ChangeRecord) async throws
    /// Ready entries of the instance matching the words of `query`, best first.
    func search(tenant: TenantID, instance: UUID, query: String, limit: Int) async throws -> [KnowledgeBaseHit]
}

extension KBEntryStatus {
    /// The check every entry update goes through: a lifecycle step, or new content re-queued.
    public func validateChange(to next: KBEntryStatus) throws {
        guard next != self, !((self == .ready || self == .failed) && next == .queued) else { return }
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
