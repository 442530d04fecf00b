import AgentplaneCore
import AgentplaneStore
import AgentplaneTesting
import Testing

@Suite struct EventLogConformance {
    @Test(arguments: TestBackend.allCases)
    func sequencesStartAtOneAndArePerTenant(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let (first, second) = (Fixtures.tenant(), Fixtures.tenant())
            let a = try await store.events.append([Fixtures.event(), Fixtures.event()], tenant: first)
            let b = try await store.events.append([Fixtures.event()], tenant: second)
            let c = try await store.events.append([Fixtures.event()], tenant: first)
            #expect(a.map(\.sequence) == [1, 2])
            #expect(b.map(\.sequence) == [1])
            #expect(c.map(\.sequence) == [3])
            #expect(try await store.events.latestSequence(tenant: first) == 3)
            #expect(try await store.events.latestSequence(tenant: Fixtures.tenant()) == 0)
            // A tenant never sees another tenant's events.
            let listed = try await store.events.list(tenant: second, query: EventQuery())
            #expect(listed.map(\.id) == b.map(\.id))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func filtersByTypeSubjectAfterAndLimit(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = Fixtures.tenant()
            _ = try await store.events.append(
                [
                    Fixtures.event("order.created", subject: "orders/1"),
                    Fixtures.event("order.shipped", subject: "orders/1"),
                    Fixtures.event("order.created", subject: "orders/2"),
                    Fixtures.event("order.created", subject: "orders/3"),
                ],
                tenant: tenant
            )
            let created = try await store.events.list(tenant: tenant, query: EventQuery(type: "order.created"))
            #expect(created.map(\.sequence) == [1, 3, 4])
            let first = try await store.events.list(tenant: tenant, query: EventQuery(subject: "orders/1"))
            #expect(first.map(\.sequence) == [1, 2])
            let page = try await store.events.list(tenant: tenant, query: EventQuery(after: 1, limit: 2))
            #expect(page.map(\.sequence) == [2, 3])
            let both = try await store.events.list(
                tenant: tenant,
                query: EventQuery(after: 1, type: "order.created", subject: "orders/3")
            )
            #expect(both.map(\.sequence) == [4])
        }
    }

    /// The outbox property: with many concurrent writers, a reader polling `after=N` never later sees
    /// an event with sequence ≤ N appear. Sequences must also be gap-free, so the reader checks that
    /// every page continues exactly where the last one ended. The reader polls until it has seen every
    /// event, so the test has a time limit: a lost event must fail it, not hang it.
    @Test(.timeLimit(.minutes(2)), arguments: TestBackend.allCases)
    func readersNeverSeeAnOlderEventAppearLater(backend: TestBackend) async throws {
        let writers = 8
        let appendsPerWriter = 40
        let tenants = [Fixtures.tenant(), Fixtures.tenant()]
        try await withStore(backend) { store in
            let expected = tenants.count * writers * appendsPerWriter * 2
            try await withThrowingTaskGroup(of: Int.self) { group in
                for tenant in tenants {
                    for writer in 0..<writers {
                        group.addTask {
                            for index in 0..<appendsPerWriter {
                                // Mix single appends and batches of three.
                                let batch = index % 2 == 0 ? 1 : 3
                                _ = try await store.events.append(
                                    (0..<batch).map { _ in Fixtures.event("load.tick", subject: "writer/\(writer)") },
                                    tenant: tenant
                                )
                            }
                            return 0
                        }
                    }
                    group.addTask {
                        // The reader: polls until it has seen everything for its tenant.
                        let total = writers * appendsPerWriter * 2
                        var last: Int64 = 0
                        var seen = 0
                        var observed: Set<Int64> = []
                        while seen < total {
                            try Task.checkCancellation()
                            let page = try await store.events.list(
                                tenant: tenant, query: EventQuery(after: last, limit: 50))
                            for event in page {
                                #expect(
                                    event.sequence == last + 1, "gap or reorder after \(last): got \(event.sequence)")
                                #expect(observed.insert(event.sequence).inserted)
                                last = event.sequence
                                seen += 1
                            }
                            if page.isEmpty { await Task.yield() }
                        }
                        // Nothing at or below what was seen appears afterwards.
                        let all = try await store.events.list(tenant: tenant, query: EventQuery(after: 0, limit: 1000))
                        #expect(all.map(\.sequence) == Array(1...Int64(total)))
                        return seen
                    }
                }
                let seen = try await group.reduce(0, +)
                #expect(seen == expected)
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aFailedAppendLeavesNoEventAndNoGap(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = Fixtures.tenant()
            let duplicate = Fixtures.event()
            // The third event repeats the first one's id: the whole batch must roll back.
            await #expect(throws: StoreError.self) {
                _ = try await store.events.append([duplicate, Fixtures.event(), duplicate], tenant: tenant)
            }
            #expect(try await store.events.list(tenant: tenant, query: EventQuery()).isEmpty)
            #expect(try await store.events.latestSequence(tenant: tenant) == 0)
            let next = try await store.events.append([Fixtures.event()], tenant: tenant)
            #expect(next.map(\.sequence) == [1])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aFailedStateChangeRollsBackItsEvent(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let key = Fixtures.apiKey()
            try await store.apiKeys.insert(key, event: Fixtures.event("api_key.created", subject: "first"))
            await #expect(throws: StoreError.self) {
                try await store.apiKeys.insert(
                    Fixtures.apiKey(prefix: key.prefix),
                    event: Fixtures.event("api_key.created", subject: "second")
                )
            }
            let events = try await store.events.list(tenant: .platform, query: EventQuery())
            #expect(events.map(\.subject) == ["first"])
        }
    }
}
