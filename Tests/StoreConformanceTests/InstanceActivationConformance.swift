import AgentplaneCore
import AgentplaneStore
import AgentplaneTesting
import Foundation
import Testing

/// Instances' gateway activations, on both backends: a save writes only a change (so concurrent activations
/// record one event), other tenants see nothing, the fleet-wide listing pages through active instances of every
/// tenant, and deleting an instance removes its activation.
@Suite(.timeLimit(.minutes(5))) struct InstanceActivationConformance {
    static func activation(_ instance: Instance, active: Bool, at time: Timestamp = .now()) -> InstanceActivation {
        InstanceActivation(
            tenantID: instance.tenantID, instanceID: instance.id, active: active,
            activatedAt: time, activatedBy: "api_key:test", deactivatedAt: active ? nil : time)
    }

    static func record(_ activation: InstanceActivation) -> ChangeRecord {
        let event =
            activation.active
            ? Events.instanceActivated(activation, context: EventContext(), at: .now())
            : Events.instanceDeactivated(activation, reason: "deactivated", context: EventContext(), at: .now())
        return Fixtures.record(activation.tenantID, events: [event])
    }

    static func events(_ store: any Store, _ tenant: TenantID) async throws -> [String] {
        try await store.events.list(tenant: tenant, query: EventQuery(limit: 1000)).map(\.type)
            .filter { $0.hasPrefix("instance.") && $0.hasSuffix("activated") }
    }

    @Test(arguments: TestBackend.allCases)
    func savesChangesOnlyAndListsActiveInstancesOfEveryTenant(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let agent = Fixtures.agent()
            try await store.agents.create(agent, record: Fixtures.record(.platform))
            let acme = try await Fixtures.createTenant(in: store).id
            let globex = try await Fixtures.createTenant(in: store).id
            var instances: [Instance] = []
            for tenant in [acme, acme, globex] {
                let instance = Fixtures.instance(tenant, agent: agent)
                try await store.instances.create(instance, record: Fixtures.record(tenant))
                instances.append(instance)
            }
            let first = instances[0]
            #expect(try await store.activations.find(tenant: acme, instance: first.id) == nil)
            // Deactivating what was never active writes nothing.
            #expect(
                try await !store.activations.save(
                    Self.activation(first, active: false), record: Self.record(Self.activation(first, active: false))))

            // Concurrent activations: one writes (and records its event), the others find it done.
            let active = Self.activation(first, active: true)
            let writes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await store.activations.save(active, record: Self.record(active)) }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(writes.filter { $0 }.count == 1)
            #expect(try await Self.events(store, acme) == ["instance.activated"])
            let found = try #require(try await store.activations.find(tenant: acme, instance: first.id))
            #expect(found.active && found.activatedBy == "api_key:test")
            #expect(found.activatedAt?.microsecondsSinceEpoch == active.activatedAt?.microsecondsSinceEpoch)
            // Another tenant sees nothing, and cannot write it.
            #expect(try await store.activations.find(tenant: globex, instance: first.id) == nil)
            var foreign = active
            foreign.tenantID = globex
            await #expect(throws: StoreError.self) {
                _ = try await store.activations.save(foreign, record: Self.record(foreign))
            }

            // The listing: every tenant's active instances, by id, in pages.
            for instance in instances.dropFirst() {
                let activation = Self.activation(instance, active: true)
                #expect(try await store.activations.save(activation, record: Self.record(activation)))
            }
            let page1 = try await store.activations.listActive(after: nil, limit: 2)
            let page2 = try await store.activations.listActive(after: page1.last?.instance.id, limit: 2)
            #expect(
                (page1 + page2).map(\.instance.id)
                    == instances.map(\.id).sorted { $0.lowercasedString < $1.lowercasedString })
            #expect(page2.count == 1)
            #expect((page1 + page2).allSatisfy { $0.activation.active && $0.activation.instanceID == $0.instance.id })
            #expect(Set((page1 + page2).map(\.instance.tenantID)) == [acme, globex])

            // Deactivated: written once, gone from the listing.
            let inactive = Self.activation(first, active: false)
            #expect(try await store.activations.save(inactive, record: Self.record(inactive)))
            #expect(try await !store.activations.save(inactive, record: Self.record(inactive)))
            #expect(
                try await Self.events(store, acme) == [
                    "instance.activated", "instance.activated", "instance.deactivated",
                ])
            let stored = try #require(try await store.activations.find(tenant: acme, instance: first.id))
            #expect(!stored.active && stored.deactivatedAt != nil && stored.activatedAt != nil)
            #expect(
                try await store.activations.listActive(after: nil, limit: 10).map(\.instance.id).contains(first.id)
                    == false)

            // Deleting the instance removes its activation.
            let second = instances[1]
            try await store.instances.delete(tenant: acme, id: second.id, record: Fixtures.record(acme))
            #expect(try await store.activations.find(tenant: acme, instance: second.id) == nil)
            #expect(
                try await store.activations.listActive(after: nil, limit: 10).map(\.instance.id) == [instances[2].id])
        }
    }
}
