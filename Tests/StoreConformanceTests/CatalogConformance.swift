import AgentplaneCore
import AgentplaneStore
import AgentplaneTesting
import Foundation
import Testing

/// Agents, instances and knowledge-base entries behave alike on both backends.
@Suite struct CatalogConformance {
    static func quotas(maxInstances: Int) -> TenantQuotas {
        var quotas = TenantQuotas.defaults
        quotas.maxInstances = maxInstances
        return quotas
    }

    @Test(arguments: TestBackend.allCases)
    func agentVersionsAreKeptAndStaleWritesRefused(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            var agent = Fixtures.agent()
            try await store.agents.create(agent, record: Fixtures.record(.platform))
            agent.defaultConfig = ["model": "b"]
            let second = try await store.agents.update(agent, expectedVersion: 1, record: Fixtures.record(.platform))
            #expect(second.version == 2)
            let stale = await #expect(throws: StoreError.self) {
                _ = try await store.agents.update(agent, expectedVersion: 1, record: Fixtures.record(.platform))
            }
            #expect(stale?.kind == .staleVersion)
            let versions = try await store.agents.versions(id: agent.id)
            #expect(versions.map(\.version) == [2, 1])
            #expect(versions.last?.defaultConfig == ["model": "a"])
            let duplicate = await #expect(throws: StoreError.self) {
                var copy = Fixtures.agent()
                copy.type = agent.type
                try await store.agents.create(copy, record: Fixtures.record(.platform))
            }
            #expect(duplicate?.kind == .uniqueViolation(.agentType))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func instanceQuotaHoldsUnderConcurrentCreates(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let agent = Fixtures.agent()
            try await store.agents.create(agent, record: Fixtures.record(.platform))
            let tenant = try await Fixtures.createTenant(in: store, quotas: Self.quotas(maxInstances: 3)).id
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        do {
                            try await store.instances.create(
                                Fixtures.instance(tenant, agent: agent, name: "n\(index)"),
                                record: Fixtures.record(tenant)
                            )
                            return true
                        } catch let error as StoreError where error.kind == .quotaExceeded(limit: 3) {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 3)
            #expect(try await store.instances.list(tenant: tenant, query: InstanceQuery()).count == 3)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func statusChangesRequireTheExpectedState(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let agent = Fixtures.agent()
            try await store.agents.create(agent, record: Fixtures.record(.platform))
            let tenant = try await Fixtures.createTenant(in: store, quotas: Self.quotas(maxInstances: 10)).id
            var instance = Fixtures.instance(tenant, agent: agent)
            try await store.instances.create(instance, record: Fixtures.record(tenant))
            instance.status = .provisioning
            let provisioning = try await store.instances.update(
                instance, expectedVersion: 1, from: .pending, record: Fixtures.record(tenant))
            #expect(provisioning.status == .provisioning)
            // A second claimer that still believes the instance is pending changes nothing.
            await #expect(throws: StoreError.self) {
                _ = try await store.instances.update(
                    instance, expectedVersion: 2, from: .pending, record: Fixtures.record(tenant))
            }
            #expect(try await store.instances.find(tenant: tenant, id: instance.id)?.status == .provisioning)
            // The store itself refuses a step the lifecycle does not allow, whoever asks.
            var stopped = provisioning
            stopped.status = .stopped
            let illegal = await #expect(throws: AgentplaneError.self) {
                _ = try await store.instances.update(
                    stopped, expectedVersion: 2, from: .provisioning, record: Fixtures.record(tenant))
            }
            #expect(illegal?.code == .illegalTransition)
            // Another tenant does not see it at all.
            #expect(try await store.instances.find(tenant: Fixtures.tenant(), id: instance.id) == nil)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func searchSeesReadyEntriesOfOneInstanceOnly(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let agent = Fixtures.agent()
            try await store.agents.create(agent, record: Fixtures.record(.platform))
            let tenant = try await Fixtures.createTenant(in: store, quotas: Self.quotas(maxInstances: 10)).id
            let first = Fixtures.instance(tenant, agent: agent)
            let second = Fixtures.instance(tenant, agent: agent)
            for instance in [first, second] {
                try await store.instances.create(instance, record: Fixtures.record(tenant))
            }
            func entry(_ instance: Instance, _ content: String, _ status: KBEntryStatus) -> KnowledgeBaseEntry {
                let now = Timestamp.now()
                return KnowledgeBaseEntry(
                    id: UUIDv7.make(), tenantID: tenant, instanceID: instance.id, content: content, dataType: .document,
                    langHint: .en, status: status, failureReason: nil, metadata: [:], version: 1, createdAt: now,
                    updatedAt: now
                )
            }
            let ready = entry(first, "Refunds within 14 days", .ready)
            for item in [ready, entry(first, "Refunds queued", .queued), entry(second, "Refunds elsewhere", .ready)] {
                try await store.knowledgeBase.create(item, record: Fixtures.record(tenant))
            }
            let hits = try await store.knowledgeBase.search(
                tenant: tenant, instance: first.id, query: "refunds", limit: 10)
            #expect(hits.map(\.entryID) == [ready.id])
            #expect(
                try await store.knowledgeBase.search(
                    tenant: Fixtures.tenant(), instance: first.id, query: "refunds", limit: 10
                ).isEmpty)
            #expect(
                try await store.knowledgeBase.search(tenant: tenant, instance: first.id, query: "\" OR *", limit: 10)
                    .isEmpty)
        }
    }
}
