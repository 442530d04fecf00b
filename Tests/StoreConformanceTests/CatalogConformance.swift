import AgentplaneCore
import AgentplaneStore
import AgentplaneTesting
import Foundation
import Testing

/// Agents, instances and knowledge-base entries behave alike on both backends.
@Suite struct CatalogConformance {
    static func audit(_ tenant: TenantID) -> AuditEntry {
        AuditEntry(
            tenantID: tenant,
            principalID: "test",
            keyPrefix: nil,
            operation: "test",
            resourceType: "test",
            resourceID: nil,
            requestID: nil,
            clientAddress: nil,
            outcome: .success,
            status: 200
        )
    }

    static func record(_ tenant: TenantID) -> ChangeRecord { ChangeRecord(events: [], audit: audit(tenant)) }

    static func agent() -> Agent {
        let now = Timestamp.now()
        return Agent(
            id: UUIDv7.make(),
            type: "agent-\(UUID().uuidString.prefix(8).lowercased())",
            name: "Agent",
            description: "",
            category: "test",
            defaultConfig: ["model": "a"],
            content: .object([:]),
            activationCode: nil,
            rate: 0,
            isActive: true,
            version: 1,
            createdAt: now,
            updatedAt: now
        )
    }

    static func tenant(_ store: any Store, maxInstances: Int = 10) async throws -> TenantID {
        let now = Timestamp.now()
        let id = TenantID(UUIDv7.make())
        var quotas = TenantQuotas.defaults
        quotas.maxInstances = maxInstances
        try await store.tenants.create(
            Tenant(
                id: id, slug: "t\(UUID().uuidString.prefix(8).lowercased())", name: "T", status: .active,
                quotas: quotas, version: 1, createdAt: now, updatedAt: now),
            record: record(id)
        )
        return id
    }

    static func instance(_ tenant: TenantID, agent: Agent, name: String = "i") -> Instance {
        let now = Timestamp.now()
        return Instance(
            id: UUIDv7.make(), tenantID: tenant, agentID: agent.id, ownerUserID: "test", projectID: nil, name: name,
            userConfig: [:], config: agent.defaultConfig, pipelineConfig: .object([:]), status: .pending, version: 1,
            createdAt: now, updatedAt: now
        )
    }

    @Test(arguments: TestBackend.allCases)
    func agentVersionsAreKeptAndStaleWritesRefused(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            var agent = Self.agent()
            try await store.agents.create(agent, record: Self.record(.platform))
            agent.defaultConfig = ["model": "b"]
            let second = try await store.agents.update(agent, expectedVersion: 1, record: Self.record(.platform))
            #expect(second.version == 2)
            let stale = await #expect(throws: StoreError.self) {
                _ = try await store.agents.update(agent, expectedVersion: 1, record: Self.record(.platform))
            }
            #expect(stale?.kind == .staleVersion)
            let versions = try await store.agents.versions(id: agent.id)
            #expect(versions.map(\.version) == [2, 1])
            #expect(versions.last?.defaultConfig == ["model": "a"])
            let duplicate = await #expect(throws: StoreError.self) {
                var copy = Self.agent()
                copy.type = agent.type
                try await store.agents.create(copy, record: Self.record(.platform))
            }
            #expect(duplicate?.kind == .uniqueViolation(.agentType))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func instanceQuotaHoldsUnderConcurrentCreates(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let agent = Self.agent()
            try await store.agents.create(agent, record: Self.record(.platform))
            let tenant = try await Self.tenant(store, maxInstances: 3)
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        do {
                            try await store.instances.create(
                                Self.instance(tenant, agent: agent, name: "n\(index)"),
                                maxInstances: 3,
                                record: Self.record(tenant)
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
            let agent = Self.agent()
            try await store.agents.create(agent, record: Self.record(.platform))
            let tenant = try await Self.tenant(store)
            var instance = Self.instance(tenant, agent: agent)
            try await store.instances.create(instance, maxInstances: 10, record: Self.record(tenant))
            instance.status = .provisioning
            let provisioning = try await store.instances.update(
                instance, expectedVersion: 1, from: .pending, record: Self.record(tenant))
            #expect(provisioning.status == .provisioning)
            // A second claimer that still believes the instance is pending changes nothing.
            await #expect(throws: StoreError.self) {
                _ = try await store.instances.update(
                    instance, expectedVersion: 2, from: .pending, record: Self.record(tenant))
            }
            #expect(try await store.instances.find(tenant: tenant, id: instance.id)?.status == .provisioning)
            // The store itself refuses a step the lifecycle does not allow, whoever asks.
            var stopped = provisioning
            stopped.status = .stopped
            let illegal = await #expect(throws: AgentplaneError.self) {
                _ = try await store.instances.update(
                    stopped, expectedVersion: 2, from: .provisioning, record: Self.record(tenant))
            }
            #expect(illegal?.code == .illegalTransition)
            // Another tenant does not see it at all.
            #expect(try await store.instances.find(tenant: Fixtures.tenant(), id: instance.id) == nil)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func searchSeesReadyEntriesOfOneInstanceOnly(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let agent = Self.agent()
            try await store.agents.create(agent, record: Self.record(.platform))
            let tenant = try await Self.tenant(store)
            let first = Self.instance(tenant, agent: agent)
            let second = Self.instance(tenant, agent: agent)
            for instance in [first, second] {
                try await store.instances.create(instance, maxInstances: 10, record: Self.record(tenant))
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
                try await store.knowledgeBase.create(item, maxEntries: 100, record: Self.record(tenant))
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
