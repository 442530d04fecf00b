import AgentplaneCore
import AgentplaneStore
import AgentplaneTesting
import Foundation
import Testing

/// The instance and entry quotas are per-tenant counters: exact under concurrency, given back by
/// deletes (an instance's delete gives back its entries too), on both backends.
@Suite struct QuotaConformance {
    static func entry(_ instance: Instance, _ content: String = "text") -> KnowledgeBaseEntry {
        let now = Timestamp.now()
        return KnowledgeBaseEntry(
            id: UUIDv7.make(), tenantID: instance.tenantID, instanceID: instance.id, content: content,
            dataType: .document, langHint: .en, status: .queued, failureReason: nil, metadata: [:], version: 1,
            createdAt: now, updatedAt: now
        )
    }

    static func isQuotaExceeded(_ error: StoreError?, limit: Int) -> Bool {
        error?.kind == .quotaExceeded(limit: limit)
    }

    @Test(arguments: TestBackend.allCases)
    func aDeleteGivesItsInstanceBackToTheQuota(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let agent = Fixtures.agent()
            try await store.agents.create(agent, record: Fixtures.record(.platform))
            let tenant = try await Fixtures.createTenant(in: store, quotas: CatalogConformance.quotas(maxInstances: 2))
                .id
            let first = Fixtures.instance(tenant, agent: agent)
            try await store.instances.create(first, maxInstances: 2, record: Fixtures.record(tenant))
            try await store.instances.create(
                Fixtures.instance(tenant, agent: agent), maxInstances: 2,
                record: Fixtures.record(tenant))
            let full = await #expect(throws: StoreError.self) {
                try await store.instances.create(
                    Fixtures.instance(tenant, agent: agent), maxInstances: 2,
                    record: Fixtures.record(tenant))
            }
            #expect(Self.isQuotaExceeded(full, limit: 2))
            try await store.instances.delete(tenant: tenant, id: first.id, record: Fixtures.record(tenant))
            try await store.instances.create(
                Fixtures.instance(tenant, agent: agent), maxInstances: 2,
                record: Fixtures.record(tenant))
            let again = await #expect(throws: StoreError.self) {
                try await store.instances.create(
                    Fixtures.instance(tenant, agent: agent), maxInstances: 2,
                    record: Fixtures.record(tenant))
            }
            #expect(Self.isQuotaExceeded(again, limit: 2))
            // A refused create leaves no row behind.
            #expect(try await store.instances.list(tenant: tenant, query: InstanceQuery()).count == 2)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func entriesAreCountedPerTenantAndGivenBackWithTheirInstance(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let agent = Fixtures.agent()
            try await store.agents.create(agent, record: Fixtures.record(.platform))
            let tenant = try await Fixtures.createTenant(in: store).id
            let first = Fixtures.instance(tenant, agent: agent)
            try await store.instances.create(first, maxInstances: 10, record: Fixtures.record(tenant))
            // Concurrent creates stop exactly at the quota.
            let created = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        do {
                            try await store.knowledgeBase.create(
                                Self.entry(first), maxEntries: 3, record: Fixtures.record(tenant))
                            return true
                        } catch let error as StoreError where Self.isQuotaExceeded(error, limit: 3) {
                            return false
                        }
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(created == 3)
            let entries = try await store.knowledgeBase.list(
                tenant: tenant, instance: first.id, after: nil, limit: 10, status: nil)
            #expect(entries.count == 3)
            // Deleting one entry frees one slot.
            try await store.knowledgeBase.delete(
                tenant: tenant, instance: first.id, id: entries[0].id, record: Fixtures.record(tenant))
            try await store.knowledgeBase.create(
                Self.entry(first), maxEntries: 3, record: Fixtures.record(tenant))
            await #expect(throws: StoreError.self) {
                try await store.knowledgeBase.create(
                    Self.entry(first), maxEntries: 3, record: Fixtures.record(tenant))
            }
            // Deleting the instance frees all of its entries' slots.
            try await store.instances.delete(tenant: tenant, id: first.id, record: Fixtures.record(tenant))
            let second = Fixtures.instance(tenant, agent: agent)
            try await store.instances.create(second, maxInstances: 10, record: Fixtures.record(tenant))
            for _ in 0..<3 {
                try await store.knowledgeBase.create(
                    Self.entry(second), maxEntries: 3, record: Fixtures.record(tenant))
            }
            let full = await #expect(throws: StoreError.self) {
                try await store.knowledgeBase.create(
                    Self.entry(second), maxEntries: 3, record: Fixtures.record(tenant))
            }
            #expect(Self.isQuotaExceeded(full, limit: 3))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func concurrentDeletesAndCreatesKeepTheCounterExact(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let agent = Fixtures.agent()
            try await store.agents.create(agent, record: Fixtures.record(.platform))
            let tenant = try await Fixtures.createTenant(in: store, quotas: CatalogConformance.quotas(maxInstances: 4))
                .id
            var existing: [Instance] = []
            for _ in 0..<4 {
                let instance = Fixtures.instance(tenant, agent: agent)
                try await store.instances.create(instance, maxInstances: 4, record: Fixtures.record(tenant))
                existing.append(instance)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for instance in existing {
                    group.addTask {
                        try await store.instances.delete(
                            tenant: tenant, id: instance.id, record: Fixtures.record(tenant))
                    }
                }
                for _ in 0..<8 {
                    group.addTask {
                        do {
                            try await store.instances.create(
                                Fixtures.instance(tenant, agent: agent), maxInstances: 4,
                                record: Fixtures.record(tenant))
                        } catch let error as StoreError where Self.isQuotaExceeded(error, limit: 4) {}
                    }
                }
                try await group.waitForAll()
            }
            // Whatever interleaving happened, the counter equals the rows: filling up to the quota takes
            // exactly the free slots, and the next create is refused.
            let remaining = try await store.instances.list(tenant: tenant, query: InstanceQuery()).count
            #expect(remaining <= 4)
            for _ in remaining..<4 {
                try await store.instances.create(
                    Fixtures.instance(tenant, agent: agent), maxInstances: 4,
                    record: Fixtures.record(tenant))
            }
            let full = await #expect(throws: StoreError.self) {
                try await store.instances.create(
                    Fixtures.instance(tenant, agent: agent), maxInstances: 4,
                    record: Fixtures.record(tenant))
            }
            #expect(Self.isQuotaExceeded(full, limit: 4))
            #expect(try await store.instances.list(tenant: tenant, query: InstanceQuery()).count == 4)
        }
    }
}
