import AgentplaneCore
import AgentplaneStore
import AgentplaneTesting
import Foundation
import Testing

@testable import AgentplanePostgres
@testable import AgentplaneSQLite

/// Listing, deleting and re-indexing in the catalog behave alike on both backends.
@Suite struct CatalogListingConformance {
    static func entry(_ instance: Instance, _ content: String, _ status: KBEntryStatus = .queued) -> KnowledgeBaseEntry
    {
        let now = Timestamp.now()
        return KnowledgeBaseEntry(
            id: UUIDv7.make(), tenantID: instance.tenantID, instanceID: instance.id, content: content,
            dataType: .document, langHint: .en, status: status, failureReason: nil, metadata: [:], version: 1,
            createdAt: now, updatedAt: now
        )
    }

    /// `count` new ids in the order the stores list by id: UUIDv7 orders by time only to the millisecond.
    static func orderedIDs(_ count: Int) -> [UUID] {
        (0..<count).map { _ in UUIDv7.make() }.sorted { $0.lowercasedString < $1.lowercasedString }
    }

    @Test(arguments: TestBackend.allCases)
    func agentsAreListedByStateAndSoftDeleted(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let ids = Self.orderedIDs(3)
            var active = Fixtures.agent()
            active.id = ids[0]
            var inactive = Fixtures.agent()
            inactive.id = ids[1]
            inactive.isActive = false
            var doomed = Fixtures.agent()
            doomed.id = ids[2]
            for agent in [active, inactive, doomed] {
                try await store.agents.create(agent, record: Fixtures.record(.platform))
            }
            let listed = { (includeInactive: Bool) in
                try await store.agents.list(after: nil, limit: 100, includeInactive: includeInactive).map(\.id)
            }
            #expect(try await listed(false) == [active.id, doomed.id])
            #expect(try await listed(true) == [active.id, inactive.id, doomed.id])
            #expect(
                try await store.agents.list(after: active.id, limit: 100, includeInactive: true).map(\.id) == [
                    inactive.id, doomed.id,
                ])
            #expect(try await store.agents.list(after: nil, limit: 1, includeInactive: true).map(\.id) == [active.id])

            try await store.agents.delete(id: doomed.id, at: .now(), record: Fixtures.record(.platform))
            #expect(try await listed(true) == [active.id, inactive.id])
            #expect(try await store.agents.find(id: doomed.id, includeDeleted: false) == nil)
            #expect(try await store.agents.find(id: doomed.id, includeDeleted: true)?.deletedAt != nil)
            let again = await #expect(throws: StoreError.self) {
                try await store.agents.delete(id: doomed.id, at: .now(), record: Fixtures.record(.platform))
            }
            #expect(again?.kind == .notFound)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func instancesSortByCreationOrNameAndDeleteTheirKnowledgeBase(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let agent = Fixtures.agent()
            try await store.agents.create(agent, record: Fixtures.record(.platform))
            let tenant = try await Fixtures.createTenant(in: store).id
            var made: [Instance] = []
            for (id, name) in zip(Self.orderedIDs(4), ["charlie", "alpha", "bravo", "alpha"]) {
                var instance = Fixtures.instance(tenant, agent: agent, name: name)
                instance.id = id
                try await store.instances.create(instance, record: Fixtures.record(tenant))
                made.append(instance)
            }
            let byCreation = try await store.instances.list(tenant: tenant, query: InstanceQuery()).map(\.id)
            #expect(byCreation == made.map(\.id))
            let byName = try await store.instances.list(tenant: tenant, query: InstanceQuery(sort: .name))
            // Ties on the name are broken by id, so paging never skips or repeats one.
            #expect(byName.map(\.id) == [made[1].id, made[3].id, made[2].id, made[0].id])
            let nextPage = try await store.instances.list(
                tenant: tenant, query: InstanceQuery(sort: .name, after: made[1].id, afterName: "alpha", limit: 2))
            #expect(nextPage.map(\.id) == [made[3].id, made[2].id])
            #expect(try await store.instances.list(tenant: Fixtures.tenant(), query: InstanceQuery()).isEmpty)

            // Deleting an instance takes its entries and their index rows with it.
            let doomed = made[0]
            let entry = Self.entry(doomed, "Refunds within 14 days", .ready)
            try await store.knowledgeBase.create(entry, record: Fixtures.record(tenant))
            #expect(
                try await store.knowledgeBase.search(tenant: tenant, instance: doomed.id, query: "refunds", limit: 5)
                    .count == 1)
            try await store.instances.delete(tenant: tenant, id: doomed.id, record: Fixtures.record(tenant))
            #expect(try await store.instances.find(tenant: tenant, id: doomed.id) == nil)
            #expect(try await store.knowledgeBase.find(tenant: tenant, instance: doomed.id, id: entry.id) == nil)
            #expect(
                try await store.knowledgeBase.search(tenant: tenant, instance: doomed.id, query: "refunds", limit: 5)
                    .isEmpty)
            let again = await #expect(throws: StoreError.self) {
                try await store.instances.delete(tenant: tenant, id: doomed.id, record: Fixtures.record(tenant))
            }
            #expect(again?.kind == .notFound)
            // Another tenant cannot delete one.
            let foreign = await #expect(throws: StoreError.self) {
                try await store.instances.delete(
                    tenant: Fixtures.tenant(), id: made[1].id, record: Fixtures.record(tenant))
            }
            #expect(foreign?.kind == .notFound)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func entriesAreListedUpdatedReindexedAndDeleted(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let agent = Fixtures.agent()
            try await store.agents.create(agent, record: Fixtures.record(.platform))
            let tenant = try await Fixtures.createTenant(in: store).id
            let instance = Fixtures.instance(tenant, agent: agent)
            try await store.instances.create(instance, record: Fixtures.record(tenant))
            let ids = Self.orderedIDs(2)
            var first = Self.entry(instance, "Refunds within 14 days", .ready)
            first.id = ids[0]
            var second = Self.entry(instance, "Shipping takes 3 days", .failed)
            second.id = ids[1]
            for entry in [first, second] {
                try await store.knowledgeBase.create(entry, record: Fixtures.record(tenant))
            }
            let list = { (after: UUID?, status: KBEntryStatus?) in
                try await store.knowledgeBase.list(
                    tenant: tenant, instance: instance.id, after: after, limit: 10, status: status
                ).map(\.id)
            }
            #expect(try await list(nil, nil) == [first.id, second.id])
            #expect(try await list(first.id, nil) == [second.id])
            #expect(try await list(nil, .failed) == [second.id])

            // New content re-queues the entry (out of the index), and ready puts it back, re-indexed.
            var requeued = first
            requeued.content = "Exchanges within 30 days"
            requeued.status = .queued
            requeued.version = 2
            let queued = try await store.knowledgeBase.update(
                requeued, expectedVersion: 1, from: .ready, record: Fixtures.record(tenant))
            #expect(queued.version == 2)
            let search = { (query: String) in
                try await store.knowledgeBase.search(tenant: tenant, instance: instance.id, query: query, limit: 5)
                    .map(\.entryID)
            }
            #expect(try await search("exchanges").isEmpty)
            var processing = queued
            processing.status = .processing
            processing.version = 3
            let started = try await store.knowledgeBase.update(
                processing, expectedVersion: 2, from: .queued, record: Fixtures.record(tenant))
            var ready = started
            ready.status = .ready
            ready.version = 4
            _ = try await store.knowledgeBase.update(
                ready, expectedVersion: 3, from: .processing, record: Fixtures.record(tenant))
            #expect(try await search("exchanges") == [first.id])
            #expect(try await search("refunds").isEmpty)
            let stale = await #expect(throws: StoreError.self) {
                _ = try await store.knowledgeBase.update(
                    ready, expectedVersion: 3, from: .processing, record: Fixtures.record(tenant))
            }
            #expect(stale?.kind == .staleVersion)

            try await store.knowledgeBase.delete(
                tenant: tenant, instance: instance.id, id: first.id, record: Fixtures.record(tenant))
            #expect(try await list(nil, nil) == [second.id])
            #expect(try await search("exchanges").isEmpty)
            let again = await #expect(throws: StoreError.self) {
                try await store.knowledgeBase.delete(
                    tenant: tenant, instance: instance.id, id: first.id, record: Fixtures.record(tenant))
            }
            #expect(again?.kind == .notFound)
        }
    }

    /// Both adapters number and name their migrations alike, so a schema version means one thing.
    @Test func migrationsHaveTheSameNumbersAndNamesOnBothBackends() {
        let sqlite = SQLiteMigrations.all.map { "\($0.version) \($0.name)" }
        let postgres = PostgresMigrations.all.map { "\($0.version) \($0.name)" }
        #expect(sqlite == postgres)
        #expect(SQLiteMigrations.all.map(\.version) == Array(1...SQLiteMigrations.all.count))
    }
}
