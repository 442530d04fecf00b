import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import AgentplaneTesting
import Foundation
import Testing

@testable import AgentplaneEngine

/// Commands (one row per tenant and request id, even under concurrent submits; a completion that commits
/// with the change it caused, so a command is applied exactly once) and named consumers (offsets
/// committed by version, lag counted), on both backends.
@Suite(.timeLimit(.minutes(3))) struct CommandConsumerConformance {
    static func principal(_ tenant: TenantID) -> Principal {
        Principal(
            id: UUIDv7.make(), tenantID: tenant, role: .admin, scopes: ["admin:*"], keyPrefix: "cmdtest1",
            subject: "api_key:cmdtest1", tenantRequestsPerMinute: 1000)
    }

    static func instances(_ store: any Store, _ tenant: TenantID) async throws -> Int {
        try await store.instances.list(tenant: tenant, query: InstanceQuery()).count
    }

    @Test(arguments: TestBackend.allCases)
    func aCommandIsStoredOnceAndAppliedOnce(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let useCases = UseCases(store: store, passwords: PasswordHasher(cost: 4))
            let agent = Fixtures.agent()
            try await store.agents.create(agent, record: Fixtures.record(.platform))
            let tenant = try await Fixtures.createTenant(in: store).id
            let caller = Caller(principal: Self.principal(tenant), operation: "submitCommand", requestID: "http-1")
            let create = SubmitCommand(
                action: "create_instance", data: ["agent_id": .string(agent.id.lowercasedString), "name": "desk"],
                requestID: "r-1", correlationID: "c-1", userID: "user-7")
            let first = try await useCases.submitCommand(create, tenant: nil, by: caller)
            #expect(first.created && first.command.status == .accepted)
            let again = try await useCases.submitCommand(create, tenant: nil, by: caller)
            #expect(!again.created && again.command.id == first.command.id)
            // Concurrent duplicates: one row, every caller answered with it.
            var racing = create
            racing.requestID = "r-2"
            let submitted = racing
            let answers = try await withThrowingTaskGroup(of: (Command, Bool).self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let answer = try await useCases.submitCommand(submitted, tenant: nil, by: caller)
                        return (answer.command, answer.created)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(answers.map(\.0.id)).count == 1)
            #expect(answers.filter(\.1).count == 1)
            #expect(try await store.commands.list(tenant: tenant, query: CommandQuery()).count == 2)
            // Processed: the instance exists once, with events caused by the command.
            let result = try await useCases.processCommand(first.command.id, tenant: tenant)
            #expect(result["status"] == "succeeded")
            #expect(try await Self.instances(store, tenant) == 1)
            let done = try #require(try await store.commands.find(tenant: tenant, id: first.command.id))
            #expect(done.status == .succeeded && done.attempts == 1)
            let instanceID = try #require(done.result?["instance_id"]?.stringValue)
            let events = try await store.events.list(tenant: tenant, query: EventQuery(limit: 1000))
            let created = try #require(events.first { $0.type == "instance.created" })
            #expect(created.context.causationID == first.command.id.lowercasedString)
            #expect(created.context.correlationID == "c-1" && created.context.userID == "user-7")
            #expect(created.data["instance_id"]?.stringValue == instanceID)
            #expect(
                events.contains {
                    $0.type == "command.succeeded" && $0.subject == "commands/\(done.id.lowercasedString)"
                })
            // Run again (a redelivered run): nothing happens.
            let rerun = try await useCases.processCommand(first.command.id, tenant: tenant)
            #expect(rerun["skipped"] != nil)
            #expect(try await Self.instances(store, tenant) == 1)
            // A change that would complete the already-completed command is rolled back whole.
            var late = Caller(principal: Self.principal(tenant), operation: "late")
            late.completing = first.command
            await #expect(throws: (any Error).self) {
                _ = try await useCases.createInstance(
                    CreateInstance(agentID: agent.id.lowercasedString, name: "twice"), tenant: nil, by: late)
            }
            #expect(try await Self.instances(store, tenant) == 1)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aFailingCommandEndsDeadAndAReplayRunsItAgain(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let useCases = UseCases(store: store, passwords: PasswordHasher(cost: 4))
            let tenant = try await Fixtures.createTenant(in: store).id
            let caller = Caller(principal: Self.principal(tenant), operation: "submitCommand")
            let missing = UUIDv7.make().lowercasedString
            let (command, _) = try await useCases.submitCommand(
                SubmitCommand(action: "delete_instance", data: ["instance_id": .string(missing)], requestID: "gone"),
                tenant: nil, by: caller)
            await #expect(throws: CommandRejected.self) {
                _ = try await useCases.processCommand(command.id, tenant: tenant)
            }
            let dead = try #require(try await store.commands.find(tenant: tenant, id: command.id))
            #expect(dead.status == .dead && dead.error?["status"] == .int(404) && dead.error?["code"] == "NOT_FOUND")
            let replayed = try await useCases.replayCommand(command.id, tenant: nil, by: caller)
            #expect(replayed.status == .accepted && replayed.runID != command.runID)
            await #expect(throws: AgentplaneError.self) {
                _ = try await useCases.replayCommand(command.id, tenant: nil, by: caller)
            }
            await #expect(throws: CommandRejected.self) {
                _ = try await useCases.processCommand(command.id, tenant: tenant)
            }
            let again = try #require(try await store.commands.find(tenant: tenant, id: command.id))
            #expect(again.status == .dead && again.attempts == 2)
            // Another tenant sees none of it.
            let other = try await Fixtures.createTenant(in: store).id
            #expect(try await store.commands.find(tenant: other, id: command.id) == nil)
            #expect(try await store.commands.list(tenant: other, query: CommandQuery()).isEmpty)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func theLagMonitorReportsEveryTenantsConsumersAndForgetsDeletedOnes(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let monitor = ConsumerLagMonitor(store: store, logger: testLogger())
            var series = Set<[String]>()
            for slug in ["lag-a", "lag-b"] {
                let tenant = try await Fixtures.createTenant(in: store, slug: slug).id
                let consumer = try ConsumerDecisions.create(
                    name: "feed", types: [], subject: nil, format: nil, offset: .start, tenant: tenant, now: .now())
                try await store.consumers.create(consumer, record: Fixtures.record(tenant))
                series.insert([tenant.description, "feed"])
            }
            let seen = try await monitor.publish(after: [])
            #expect(seen == series)
            let gone = try #require(series.first)
            try await store.consumers.delete(
                tenant: try #require(TenantID(uuidString: gone[0])), name: "feed",
                record: Fixtures.record(try #require(TenantID(uuidString: gone[0]))))
            #expect(try await monitor.publish(after: seen) == series.subtracting([gone]))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func consumersCommitOffsetsByVersionAndCountLag(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let other = try await Fixtures.createTenant(in: store).id
            _ = try await store.events.append(
                (0..<5).map { NewEvent(type: "order.created", data: ["n": .int(Int64($0))]) }, tenant: tenant)
            let all = try await store.events.list(tenant: tenant, query: EventQuery(limit: 1000))
            let now = Timestamp.now()
            let consumer = try ConsumerDecisions.create(
                name: "orders", types: ["order.*"], subject: nil, format: "seed000", offset: .start, tenant: tenant,
                now: now)
            try await store.consumers.create(consumer, record: Fixtures.record(tenant))
            let stored = try #require(try await store.consumers.find(tenant: tenant, name: "orders"))
            #expect(stored.filter.types == ["order.*"] && stored.format == .seed000 && stored.offset == .start)
            #expect(try await store.consumers.lag(tenant: tenant, after: .start, cap: 1000) == all.count)
            #expect(try await store.consumers.lag(tenant: tenant, after: .start, cap: 2) == 2)
            let duplicate = await #expect(throws: StoreError.self) {
                try await store.consumers.create(consumer, record: Fixtures.record(tenant))
            }
            #expect(duplicate?.kind == .uniqueViolation(.consumerName))
            var next = stored
            next.offset = all[2].position
            next.version = 2
            next.ackedAt = now
            try await store.consumers.commit(next, expectedVersion: 1, record: Fixtures.record(tenant))
            let stale = await #expect(throws: StoreError.self) {
                try await store.consumers.commit(next, expectedVersion: 1, record: Fixtures.record(tenant))
            }
            #expect(stale?.kind == .staleVersion)
            #expect(try await store.consumers.lag(tenant: tenant, after: all[2].position, cap: 1000) == all.count - 3)
            let reread = try #require(try await store.consumers.find(tenant: tenant, name: "orders"))
            #expect(reread.offset == all[2].position && reread.version == 2 && reread.ackedAt != nil)
            // Tenants are apart: the other tenant has no such consumer, and the monitor's list sees both.
            #expect(try await store.consumers.find(tenant: other, name: "orders") == nil)
            var theirs = consumer
            theirs.tenantID = other
            try await store.consumers.create(theirs, record: Fixtures.record(other))
            #expect(try await store.consumers.list(tenant: tenant, after: nil, limit: 10).map(\.name) == ["orders"])
            #expect(Set(try await store.consumers.listAll(limit: 10).map(\.tenantID)) == [tenant, other])
            try await store.consumers.delete(tenant: tenant, name: "orders", record: Fixtures.record(tenant))
            let gone = await #expect(throws: StoreError.self) {
                try await store.consumers.delete(tenant: tenant, name: "orders", record: Fixtures.record(tenant))
            }
            #expect(gone?.kind == .notFound)
            #expect(try await store.consumers.find(tenant: other, name: "orders") != nil)
        }
    }
}
