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
            try await store.instances.create(first, record: Fixtures.record(tenant))
            try await store.instances.create(
                Fixtures.instance(tenant, agent: agent), record: Fixtures.record(tenant))
            let full = await #expect(throws: StoreError.self) {
                try await store.instances.create(
                    Fixtures.instance(tenant, agent: agent), record: Fixtures.record(tenant))
            }
            #expect(Self.isQuotaExceeded(full, limit: 2))
            try await store.instances.delete(tenant: tenant, id: first.id, record: Fixtures.record(tenant))
            try await store.instances.create(
                Fixtures.instance(tenant, agent: agent), record: Fixtures.record(tenant))
            let again = await #expect(throws: StoreError.self) {
                try await store.instances.create(
                    Fixtures.instance(tenant, agent: agent), record: Fixtures.record(tenant))
            }
            #expect(Self.isQuotaExceeded(again, limit: 2))
            // A refused create leaves no row behind.
            #expect(try await store.instances.list(tenant: tenant, query: InstanceQuery()).count == 2)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func theQuotaIsTheTenantsCurrentOneAndAMissingTenantIsNotFound(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let agent = Fixtures.agent()
            try await store.agents.create(agent, record: Fixtures.record(.platform))
            let tenant = try await Fixtures.createTenant(in: store, quotas: CatalogConformance.quotas(maxInstances: 1))
            try await store.instances.create(
                Fixtures.instance(tenant.id, agent: agent), record: Fixtures.record(tenant.id))
            let full = await #expect(throws: StoreError.self) {
                try await store.instances.create(
                    Fixtures.instance(tenant.id, agent: agent), record: Fixtures.record(tenant.id))
            }
            #expect(Self.isQuotaExceeded(full, limit: 1))
            // The store reads the quota from the tenant row with the counter: a raise applies at once.
            var raised = tenant
            raised.quotas.maxInstances = 2
            raised.version = tenant.version + 1
            _ = try await store.tenants.update(
                raised, expectedVersion: tenant.version, record: Fixtures.record(tenant.id))
            try await store.instances.create(
                Fixtures.instance(tenant.id, agent: agent), record: Fixtures.record(tenant.id))
            let again = await #expect(throws: StoreError.self) {
                try await store.instances.create(
                    Fixtures.instance(tenant.id, agent: agent), record: Fixtures.record(tenant.id))
            }
            #expect(Self.isQuotaExceeded(again, limit: 2))
            // No tenant row, no quota: not found, and nothing written.
            let ghost = TenantID(UUIDv7.make())
            let missing = await #expect(throws: StoreError.self) {
                try await store.instances.create(Fixtures.instance(ghost, agent: agent), record: Fixtures.record(ghost))
            }
            #expect(missing?.kind == .notFound)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func anEntryCreatedWithItsProcessingStepsRecordsEveryStepInOneTransaction(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let agent = Fixtures.agent()
            try await store.agents.create(agent, record: Fixtures.record(.platform))
            let tenant = try await Fixtures.createTenant(in: store).id
            let instance = Fixtures.instance(tenant, agent: agent)
            try await store.instances.create(instance, record: Fixtures.record(tenant))
            var entry = Self.entry(instance, "Shipping takes three days")
            entry.status = .ready
            entry.version = 3
            let before = try await store.auditLog.list(tenant: tenant, query: AuditQuery(limit: 100)).count
            let marks = ["created", "processing", "ready"]
            let records = marks.map { mark in
                Fixtures.record(
                    tenant,
                    events: [Fixtures.event("test.\(mark)")])
            }
            try await store.knowledgeBase.create(entry, records: records)
            #expect(try await store.auditLog.list(tenant: tenant, query: AuditQuery(limit: 100)).count == before + 3)
            let types = try await store.events.list(tenant: tenant, query: EventQuery(limit: 100)).map(\.type)
            #expect(types.suffix(3) == marks.map { "test.\($0)" })
            // Created ready, it is in the index at once.
            let hits = try await store.knowledgeBase.search(
                tenant: tenant, instance: instance.id, query: "shipping", limit: 5)
            #expect(hits.map(\.entryID) == [entry.id])
            // A refused create (quota) writes none of its records.
            var full = TenantQuotas.defaults
            full.maxKnowledgeBaseEntries = 0
            let other = try await Fixtures.createTenant(in: store, quotas: full).id
            let otherInstance = Fixtures.instance(other, agent: agent)
            try await store.instances.create(otherInstance, record: Fixtures.record(other))
            let eventsBefore = try await store.events.list(tenant: other, query: EventQuery(limit: 100)).count
            await #expect(throws: StoreError.self) {
                try await store.knowledgeBase.create(
                    Self.entry(otherInstance),
                    records: [Fixtures.record(other, events: [Fixtures.event()])])
            }
            #expect(try await store.events.list(tenant: other, query: EventQuery(limit: 100)).count == eventsBefore)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func entriesAreCountedPerTenantAndGivenBackWithTheirInstance(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let agent = Fixtures.agent()
            try await store.agents.create(agent, record: Fixtures.record(.platform))
            var quotas = TenantQuotas.defaults
            quotas.maxKnowledgeBaseEntries = 3
            let tenant = try await Fixtures.createTenant(in: store, quotas: quotas).id
            let first = Fixtures.instance(tenant, agent: agent)
            try await store.instances.create(first, record: Fixtures.record(tenant))
            // Concurrent creates stop exactly at the quota.
            let created = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        do {
                            try await store.knowledgeBase.create(
                                Self.entry(first), record: Fixtures.record(tenant))
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
                Self.entry(first), record: Fixtures.record(tenant))
            await #expect(throws: StoreError.self) {
                try await store.knowledgeBase.create(
                    Self.entry(first), record: Fixtures.record(tenant))
            }
            // Deleting the instance frees all of its entries' slots.
            try await store.instances.delete(tenant: tenant, id: first.id, record: Fixtures.record(tenant))
            let second = Fixtures.instance(tenant, agent: agent)
            try await store.instances.create(second, record: Fixtures.record(tenant))
            for _ in 0..<3 {
                try await store.knowledgeBase.create(
                    Self.entry(second), record: Fixtures.record(tenant))
            }
            let full = await #expect(throws: StoreError.self) {
                try await store.knowledgeBase.create(
                    Self.entry(second), record: Fixtures.record(tenant))
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
                try await store.instances.create(instance, record: Fixtures.record(tenant))
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
                                Fixtures.instance(tenant, agent: agent), record: Fixtures.record(tenant))
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
                    Fixtures.instance(tenant, agent: agent), record: Fixtures.record(tenant))
            }
            let full = await #expect(throws: StoreError.self) {
                try await store.instances.create(
                    Fixtures.instance(tenant, agent: agent), record: Fixtures.record(tenant))
            }
            #expect(Self.isQuotaExceeded(full, limit: 4))
            #expect(try await store.instances.list(tenant: tenant, query: InstanceQuery()).count == 4)
        }
    }
}
