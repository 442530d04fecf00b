import AgentplaneCore
import AgentplaneStore
import Foundation

/// The stores whose changes enqueue runs (`ChangeRecord.runs`: provisioning, teardown, entry
/// processing), waking the workers after the change has committed — the transaction itself never
/// notifies (DESIGN §8).
struct PostgresWakingInstanceStore: InstanceStore {
    let inner: PostgresInstanceStore
    let wake: @Sendable () -> Void

    func create(_ instance: Instance, record: ChangeRecord) async throws {
        try await inner.create(instance, record: record)
        if !record.runs.isEmpty { wake() }
    }

    func find(tenant: TenantID, id: UUID) async throws -> Instance? { try await inner.find(tenant: tenant, id: id) }

    func list(tenant: TenantID, query: InstanceQuery) async throws -> [Instance] {
        try await inner.list(tenant: tenant, query: query)
    }

    func update(_ instance: Instance, expectedVersion: Int64, from: InstanceStatus, record: ChangeRecord) async throws
        -> Instance
    {
        let saved = try await inner.update(instance, expectedVersion: expectedVersion, from: from, record: record)
        if !record.runs.isEmpty { wake() }
        return saved
    }

    func delete(tenant: TenantID, id: UUID, record: ChangeRecord) async throws {
        try await inner.delete(tenant: tenant, id: id, record: record)
        if !record.runs.isEmpty { wake() }
    }
}

/// Knowledge-base entries, waking the workers after a change that enqueued processing.
struct PostgresWakingKnowledgeBaseStore: KnowledgeBaseStore {
    let inner: PostgresKnowledgeBaseStore
    let wake: @Sendable () -> Void

    func create(_ entry: KnowledgeBaseEntry, records: [ChangeRecord]) async throws {
        try await inner.create(entry, records: records)
        if records.contains(where: { !$0.runs.isEmpty }) { wake() }
    }

    func find(tenant: TenantID, instance: UUID, id: UUID) async throws -> KnowledgeBaseEntry? {
        try await inner.find(tenant: tenant, instance: instance, id: id)
    }

    func list(tenant: TenantID, instance: UUID, after: UUID?, limit: Int, status: KBEntryStatus?) async throws
        -> [KnowledgeBaseEntry]
    {
        try await inner.list(tenant: tenant, instance: instance, after: after, limit: limit, status: status)
    }

    func update(
        _ entry: KnowledgeBaseEntry, expectedVersion: Int64, from: KBEntryStatus, records: [ChangeRecord]
    ) async throws -> KnowledgeBaseEntry {
        let saved = try await inner.update(entry, expectedVersion: expectedVersion, from: from, records: records)
        if records.contains(where: { !$0.runs.isEmpty }) { wake() }
        return saved
    }

    func delete(tenant: TenantID, instance: UUID, id: UUID, record: ChangeRecord) async throws {
        try await inner.delete(tenant: tenant, instance: instance, id: id, record: record)
        if !record.runs.isEmpty { wake() }
    }

    func search(tenant: TenantID, instance: UUID, query: String, limit: Int) async throws -> [KnowledgeBaseHit] {
        try await inner.search(tenant: tenant, instance: instance, query: query, limit: limit)
    }
}
