import AgentplaneCore
import AgentplaneStore
import AgentplaneTesting
import Foundation
import Testing

/// Instances' health checks, on both backends: a record stores the check with its events and keeps only the
/// newest few, the newest come first, another tenant sees none and cannot write any, and deleting the instance
/// removes its checks.
@Suite(.timeLimit(.minutes(5))) struct InstanceHealthConformance {
    static func check(_ instance: Instance, healthy: Bool, at micros: Int64, detail: String = "probe")
        -> InstanceHealthCheck
    {
        let time = Timestamp(microsecondsSinceEpoch: micros)
        return InstanceHealthCheck(
            id: UUIDv7.make(at: time), tenantID: instance.tenantID, instanceID: instance.id, checkedAt: time,
            healthy: healthy, latencyMs: 7, detail: detail)
    }

    @Test(arguments: TestBackend.allCases)
    func recordsKeepsTheNewestAndIsolatesTenants(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let agent = Fixtures.agent()
            try await store.agents.create(agent, record: Fixtures.record(.platform))
            let acme = try await Fixtures.createTenant(in: store).id
            let globex = try await Fixtures.createTenant(in: store).id
            let instance = Fixtures.instance(acme, agent: agent)
            let other = Fixtures.instance(acme, agent: agent)
            for stored in [instance, other] { try await store.instances.create(stored, record: Fixtures.record(acme)) }
            #expect(try await store.instanceHealth.recent(tenant: acme, instance: instance.id, limit: 10).isEmpty)

            // Seven checks with a keep of five: the two oldest go, in the write's transaction.
            let start = Timestamp.now().microsecondsSinceEpoch
            var written: [InstanceHealthCheck] = []
            for n in 0..<7 {
                let check = Self.check(instance, healthy: n % 3 != 2, at: start + Int64(n) * 1000, detail: "probe \(n)")
                let events =
                    n == 2
                    ? [Events.instanceHealthChanged(check, consecutiveFailures: 1, context: EventContext(), at: .now())]
                    : []
                try await store.instanceHealth.record(check, keep: 5, events: events)
                written.append(check)
            }
            try await store.instanceHealth.record(Self.check(other, healthy: true, at: start), keep: 5, events: [])
            let recent = try await store.instanceHealth.recent(tenant: acme, instance: instance.id, limit: 20)
            #expect(recent.map(\.detail) == ["probe 6", "probe 5", "probe 4", "probe 3", "probe 2"])
            #expect(recent.first == written.last)
            #expect(recent.map(\.healthy) == [true, false, true, true, false])
            #expect(try await store.instanceHealth.recent(tenant: acme, instance: instance.id, limit: 2).count == 2)
            // The other instance's check is its own, and was not pruned by this one's.
            #expect(try await store.instanceHealth.recent(tenant: acme, instance: other.id, limit: 20).count == 1)
            // The event committed with its check.
            let events = try await store.events.list(tenant: acme, query: EventQuery(limit: 100))
                .filter { $0.type == "instance.health_changed" }
            #expect(events.count == 1)
            #expect(events.first?.data["detail"] == "probe 2")

            // Another tenant sees none and cannot write one.
            #expect(try await store.instanceHealth.recent(tenant: globex, instance: instance.id, limit: 20).isEmpty)
            var foreign = Self.check(instance, healthy: true, at: start + 10_000)
            foreign.tenantID = globex
            await #expect(throws: StoreError.self) {
                try await store.instanceHealth.record(foreign, keep: 5, events: [])
            }
            #expect(try await store.instanceHealth.recent(tenant: acme, instance: instance.id, limit: 20).count == 5)

            // Deleting the instance removes its checks.
            try await store.instances.delete(tenant: acme, id: instance.id, record: Fixtures.record(acme))
            #expect(try await store.instanceHealth.recent(tenant: acme, instance: instance.id, limit: 20).isEmpty)
            await #expect(throws: StoreError.self) {
                try await store.instanceHealth.record(
                    Self.check(instance, healthy: true, at: start + 20_000), keep: 5, events: [])
            }
            #expect(try await store.instanceHealth.recent(tenant: acme, instance: other.id, limit: 20).count == 1)
        }
    }
}
