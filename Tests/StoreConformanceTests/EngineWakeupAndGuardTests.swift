import AgentplaneApp
import AgentplaneCore
import AgentplaneEngine
import AgentplanePostgres
import AgentplaneStore
import AgentplaneTesting
import Foundation
import Testing

/// Cross-node wake-ups on PostgreSQL, the maintenance run's one-per-period rule, dead-run handlers,
/// and the outbound guard.
@Suite struct EngineWakeupAndGuardTests {
    /// Waits for `wakeup` at most `timeout`; answers whether it was a signal (it came sooner).
    static func signalled(_ wakeup: RunWakeup, within timeout: Duration) async -> Bool {
        let started = ContinuousClock.now
        await wakeup.wait(timeout: timeout)
        return ContinuousClock.now - started < timeout
    }

    @Test func aChangeCommittedOnOneNodeWakesTheWorkersOfAnother() async throws {
        try await withIsolatedDatabase(.postgres) { database in
            let url = try #require(database.postgresURL)
            let first = PostgresStore(configuration: try PostgresConfiguration(url: url), logger: testLogger())
            let second = PostgresStore(configuration: try PostgresConfiguration(url: url), logger: testLogger())
            try await withRunningStore(first) { first in
                _ = try await first.migrate()
                try await withRunningStore(second) { second in
                    // The second node's listener is up once it has rung its workers the first time.
                    #expect(await Self.signalled(second.runWakeup, within: .seconds(20)))
                    let tenant = try await Fixtures.createTenant(in: first).id
                    let agent = Fixtures.agent()
                    try await first.agents.create(agent, record: Fixtures.record(.platform))
                    let useCases = UseCases(store: first, passwords: PasswordHasher(cost: 4))
                    // A change's run (the instance's provisioning) reaches the other node's workers
                    // after the commit, long before their poll would.
                    _ = try await useCases.createInstance(
                        CreateInstance(agentID: agent.id.lowercasedString, name: "n"), tenant: tenant,
                        by: Caller(principal: .system, operation: "test"))
                    #expect(await Self.signalled(second.runWakeup, within: .seconds(20)))
                }
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func maintenanceIsOneRunPerPeriodWhateverTheNodes(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let clock = ManualClock(at: Timestamp(microsecondsSinceEpoch: 1_900_000_000_000_000))
            let ticker = MaintenanceTicker(store: store, period: .seconds(300), clock: clock, logger: testLogger())
            let other = MaintenanceTicker(store: store, period: .seconds(300), clock: clock, logger: testLogger())
            let first = try await ticker.enqueueOnce()
            #expect(first.request.kind == PlatformRuns.maintenance)
            #expect(try await other.enqueueOnce().id == first.id)
            clock.advance(seconds: 301)
            let next = try await other.enqueueOnce()
            #expect(next.id != first.id)
            let all = try await store.runs.list(tenant: .platform, query: RunQuery(kind: PlatformRuns.maintenance))
            #expect(all.count == 2)
            #expect(Set(all.map(\.request.concurrencyKey)) == [PlatformRuns.maintenance])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aDeadRunsHandlerRunsWhenItsLastAttemptFailsOrIsLost(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let deadSeen = LockedValue([UUID: String]())
            let bothDead = Latch(count: 2)
            let onDead: DeadRunHandler = { run, error in
                deadSeen.withLock { $0[run.id] = error }
                bothDead.countDown()
            }
            // One run fails on its only attempt; another was claimed by a worker that died (its lease
            // runs out with no attempt left).
            let poison = try await store.runs.enqueue([RunWorkerTests.new(tenant, kind: "test.poison", maxAttempts: 1)]
            )[0]
            let orphan = try await store.runs.enqueue([RunWorkerTests.new(tenant, kind: "test.orphan", maxAttempts: 1)]
            )[0]
            let stolen = try await store.runs.claim(
                ClaimRequest(
                    workerID: "dead-worker", kinds: ["test.orphan"], limit: 1, leaseMicroseconds: 200_000,
                    now: .now()))
            #expect(stolen.map(\.id) == [orphan.id])
            let worker = RunWorker(
                store: store,
                handlers: [
                    "test.poison": { _ in throw PermanentRunFailure("never works") },
                    "test.orphan": { _ in .null },
                ],
                deadHandlers: ["test.poison": onDead, "test.orphan": onDead],
                settings: RunWorkerTests.settings("w1"), logger: testLogger())
            try await RunWorkerTests.running(worker) { try await bothDead.wait(within: .seconds(30)) }
            #expect(deadSeen.withLock { $0[poison.id] } == "never works")
            #expect(deadSeen.withLock { $0[orphan.id] }?.contains("lease expired") == true)
            #expect(try await store.runs.find(tenant: tenant, id: orphan.id)?.status == .dead)
        }
    }

    @Test func theOutboundGuardRefusesWhatIsNotPublicUnlessAllowed() async throws {
        let policy = OutboundPolicy()
        for refused in [
            "http://127.0.0.1/", "http://localhost:8080/", "http://10.2.3.4/", "http://172.16.0.1/",
            "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data", "http://100.64.0.1/",
            "http://0.0.0.0/", "http://[::1]/", "http://[fd00::1]/", "http://[fe80::1]/", "http://[::ffff:127.0.0.1]/",
            "http://224.0.0.1/",
        ] {
            await #expect(throws: OutboundRefusal.self, "\(refused)") { try await policy.check(URL(string: refused)!) }
        }
        for allowed in ["http://93.184.216.34/", "https://[2606:4700:4700::1111]/"] {
            try await policy.check(URL(string: allowed)!)
        }
        try await OutboundPolicy(allowedHosts: ["127.0.0.1", "LocalHost"]).check(URL(string: "http://localhost/")!)
        try await OutboundPolicy(allowedHosts: ["127.0.0.1"]).check(URL(string: "http://127.0.0.1:9/")!)
        #expect(OutboundPolicy.isPublic([8, 8, 8, 8]))
        #expect(!OutboundPolicy.isPublic([172, 31, 255, 255]))
        #expect(OutboundPolicy.isPublic([172, 32, 0, 1]))
    }
}
