import AgentplaneCore
import AgentplaneStore
import Foundation

extension UseCases {
    /// Adds an entry within the tenant's quota, `queued`: its processing run commits with it.
    public func createEntry(_ command: CreateEntry, instance id: UUID, tenant named: TenantID?, by caller: Caller)
        async throws -> KnowledgeBaseEntry
    {
        let instance = try await instance(id, tenant: named, for: caller)
        let now = clock.now()
        let (entry, events) = try KnowledgeBaseDecisions.create(
            command, in: instance, context: caller.eventContext, now: now)
        // The quota is read by the store in the same statement that counts the new entry.
        try await store.knowledgeBase.create(
            entry,
            records: [
                caller.record(
                    Self.resource(entry), status: 201, events: events, runs: [PlatformRuns.process(entry, at: now)],
                    at: now)
            ])
        return entry
    }

    /// An instance's entries, by id after `after`, optionally in one state.
    public func listEntries(
        instance id: UUID, after: UUID?, limit: Int, status: KBEntryStatus?, tenant named: TenantID?, for caller: Caller
    ) async throws -> Page<KnowledgeBaseEntry> {
        let instance = try await instance(id, tenant: named, for: caller)
        let entries = try await store.knowledgeBase.list(
            tenant: instance.tenantID, instance: instance.id, after: after, limit: limit + 1, status: status)
        return Page(fetched: entries, limit: limit)
    }

    /// One entry of an instance (else 404), with the instance.
    public func entry(_ id: UUID, instance instanceID: UUID, tenant named: TenantID?, for caller: Caller)
        async throws -> (KnowledgeBaseEntry, Instance)
    {
        let instance = try await instance(instanceID, tenant: named, for: caller)
        guard let entry = try await store.knowledgeBase.find(tenant: instance.tenantID, instance: instance.id, id: id)
        else { throw AgentplaneError(.notFound, "No such knowledge-base entry.") }
        return (entry, instance)
    }

    /// Changes an entry; new content is processed again.
    public func updateEntry(
        _ id: UUID, instance instanceID: UUID, _ command: UpdateEntry, tenant named: TenantID?, by caller: Caller
    ) async throws -> KnowledgeBaseEntry {
        let (current, instance) = try await entry(id, instance: instanceID, tenant: named, for: caller)
        let now = clock.now()
        let change = try KnowledgeBaseDecisions.update(
            command, current: current, in: instance, context: caller.eventContext, now: now)
        return try await save(change, current: current, by: caller, now: now)
    }

    /// Sends a failed entry through processing again.
    public func retryEntry(_ id: UUID, instance instanceID: UUID, tenant named: TenantID?, by caller: Caller)
        async throws -> KnowledgeBaseEntry
    {
        let (current, instance) = try await entry(id, instance: instanceID, tenant: named, for: caller)
        let now = clock.now()
        let change = try KnowledgeBaseDecisions.retry(current, in: instance, context: caller.eventContext, now: now)
        return try await save(change, current: current, by: caller, now: now)
    }

    /// Deletes an entry and its index rows.
    public func deleteEntry(_ id: UUID, instance instanceID: UUID, tenant named: TenantID?, by caller: Caller)
        async throws
    {
        let (entry, instance) = try await entry(id, instance: instanceID, tenant: named, for: caller)
        let now = clock.now()
        let events = KnowledgeBaseDecisions.delete(entry, in: instance, context: caller.eventContext, now: now)
        try await store.knowledgeBase.delete(
            tenant: entry.tenantID, instance: entry.instanceID, id: entry.id,
            record: caller.record(Self.resource(entry), status: 204, events: events, at: now))
    }

    /// The best matches of `query` in an instance's knowledge base, best first.
    public func searchKnowledgeBase(
        instance id: UUID, query: String, limit: Int, tenant named: TenantID?, for caller: Caller
    ) async throws -> [KnowledgeBaseHit] {
        let errors = KnowledgeBaseDecisions.searchErrors(query: query, limit: limit)
        if !errors.isEmpty { throw AgentplaneError.badQuery(errors) }
        let instance = try await instance(id, tenant: named, for: caller)
        return try await store.knowledgeBase.search(
            tenant: instance.tenantID, instance: instance.id, query: query, limit: limit)
    }

    /// Commits a change; one that re-queues the entry enqueues its processing run with it.
    private func save(
        _ change: Change<KnowledgeBaseEntry>, current: KnowledgeBaseEntry, by caller: Caller, now: Timestamp
    ) async throws -> KnowledgeBaseEntry {
        let requeued = change.state.status == .queued && current.status != .queued
        let runs = requeued ? [PlatformRuns.process(change.state, at: now)] : []
        let records = [caller.record(Self.resource(current), status: 200, events: change.events, runs: runs, at: now)]
        return try await checkingVersion(of: "entry", expected: change.expectedVersion, current: current.version) {
            try await store.knowledgeBase.update(
                change.state, expectedVersion: change.expectedVersion, from: current.status, records: records)
        }
    }

    static func resource(_ entry: KnowledgeBaseEntry) -> AuditedResource {
        AuditedResource(tenant: entry.tenantID, type: "knowledge_base_entry", id: entry.id.lowercasedString)
    }
}
