import AgentplaneCore
import AgentplaneStore
import AgentplaneTesting
import Testing

@Suite struct EventLogConformance {
    @Test(arguments: TestBackend.allCases)
    func positionsIncreaseAndArePerTenant(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let (first, second) = (Fixtures.tenant(), Fixtures.tenant())
            let a = try await store.events.append([Fixtures.event(), Fixtures.event()], tenant: first)
            let b = try await store.events.append([Fixtures.event()], tenant: second)
            let c = try await store.events.append([Fixtures.event()], tenant: first)
            #expect(a[0].position < a[1].position && a[1].position < c[0].position)
            #expect(a.allSatisfy { $0.position > .start })
            #expect(try await store.events.latestPosition(tenant: first) == c[0].position)
            #expect(try await store.events.latestPosition(tenant: Fixtures.tenant()) == .start)
            let listed = try await store.events.list(tenant: first, query: EventQuery())
            #expect(listed.map(\.position) == (a + c).map(\.position))
            #expect(listed == a + c)
            // The text form round-trips and orders as positions do.
            #expect(listed.map { EventPosition($0.position.description) } == listed.map(\.position))
            #expect(a[0].position.description < c[0].position.description)
            // A tenant never sees another tenant's events.
            let other = try await store.events.list(tenant: second, query: EventQuery())
            #expect(other.map(\.id) == b.map(\.id))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func filtersByTypeSubjectAfterAndLimit(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = Fixtures.tenant()
            let stored = try await store.events.append(
                [
                    Fixtures.event("order.created", subject: "orders/1"),
                    Fixtures.event("order.shipped", subject: "orders/1"),
                    Fixtures.event("order.created", subject: "orders/2"),
                    Fixtures.event("order.created", subject: "orders/3"),
                ],
                tenant: tenant
            )
            let ids = stored.map(\.id)
            let created = try await store.events.list(tenant: tenant, query: EventQuery(type: "order.created"))
            #expect(created.map(\.id) == [ids[0], ids[2], ids[3]])
            let first = try await store.events.list(tenant: tenant, query: EventQuery(subject: "orders/1"))
            #expect(first.map(\.id) == [ids[0], ids[1]])
            let page = try await store.events.list(
                tenant: tenant, query: EventQuery(after: stored[0].position, limit: 2))
            #expect(page.map(\.id) == [ids[1], ids[2]])
            let both = try await store.events.list(
                tenant: tenant,
                query: EventQuery(after: stored[0].position, type: "order.created", subject: "orders/3")
            )
            #expect(both.map(\.id) == [ids[3]])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func pagesHandThroughTheStoredPayloadText(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = Fixtures.tenant()
            let data: JSONValue = .object(["n": .int(7), "tags": .array([.string("a"), .null])])
            _ = try await store.events.append([Fixtures.event(data: data)], tenant: tenant)
            let listed = try await store.events.list(tenant: tenant, query: EventQuery())
            let text = try #require(listed.first?.dataJSON)
            #expect(JSONValue(parsing: text) == data)
            #expect(listed.first?.data == data)
        }
    }

    /// The outbox property: with many concurrent writers of one tenant, a reader polling `after=P`
    /// never later sees an event at or before P appear. Such an event would sit behind the reader's
    /// cursor and never be handed to it, so the reader checks that what it saw, in the order it saw it,
    /// is exactly the whole log read once the writers are done.
    @Test(.timeLimit(.minutes(2)), arguments: TestBackend.allCases)
    func readersNeverSeeAnOlderEventAppearLater(backend: TestBackend) async throws {
        let writers = 8
        let appendsPerWriter = 40
        let tenants = [Fixtures.tenant(), Fixtures.tenant()]
        try await withStore(backend) { store in
            let total = writers * appendsPerWriter * 2
            let writersDone = LockedValue(0)
            try await withThrowingTaskGroup(of: Void.self) { group in
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
                            writersDone.withLock { $0 += 1 }
                        }
                    }
                    group.addTask {
                        // The reader tails its tenant until every writer is done and it has seen `total`
                        // events, or, once the writers are done, for at most 10 s more (a lost event must
                        // fail the test, not hang it).
                        var last = EventPosition.start
                        var observed: [Event] = []
                        var drainDeadline: ContinuousClock.Instant?
                        while observed.count < total {
                            let done = writersDone.withLock { $0 } == writers * tenants.count
                            if done, drainDeadline == nil { drainDeadline = .now + .seconds(10) }
                            if let drainDeadline, ContinuousClock.now > drainDeadline { break }
                            let page = try await store.events.list(
                                tenant: tenant, query: EventQuery(after: last, limit: 50))
                            for event in page {
                                #expect(event.position > last, "reorder: \(event.position) after \(last)")
                                last = event.position
                            }
                            observed += page
                            if page.isEmpty { await Task.yield() }
                        }
                        // Nothing appeared behind the cursor: the whole log is what the reader saw.
                        let all = try await store.events.list(tenant: tenant, query: EventQuery(limit: 1000))
                        let missed = Set(all.map(\.id)).subtracting(observed.map(\.id))
                        #expect(
                            missed.count == 0,
                            "\(missed.count) of \(all.count) events appeared behind the reader's cursor")
                        let sameOrder = all.map(\.id) == observed.map(\.id)
                        #expect(sameOrder, "the log's order differs from the order the reader saw")
                        #expect(all.count == total)
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aFailedAppendLeavesNoEvent(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = Fixtures.tenant()
            let duplicate = Fixtures.event()
            // The third event repeats the first one's id: the whole batch must roll back.
            await #expect(throws: StoreError.self) {
                _ = try await store.events.append([duplicate, Fixtures.event(), duplicate], tenant: tenant)
            }
            #expect(try await store.events.list(tenant: tenant, query: EventQuery()).isEmpty)
            #expect(try await store.events.latestPosition(tenant: tenant) == .start)
            let next = try await store.events.append([Fixtures.event()], tenant: tenant)
            let listed = try await store.events.list(tenant: tenant, query: EventQuery())
            #expect(listed.map(\.id) == next.map(\.id))
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
