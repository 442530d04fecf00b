import AgentplaneCore
import AgentplanePostgres
import AgentplaneStore
import AgentplaneTesting
import Foundation
import PostgresNIO
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// PostgreSQL restarted under load (a server of the test's own, stopped with a fast shutdown and
/// started again on the same port): the node reconnects, runs what was queued, and loses no run it
/// accepted, neither queued before the restart nor enqueued by requests answered around it.
@Suite(.timeLimit(.minutes(5))) struct PostgresRestartTests {
    /// A count from the database (every tenant's rows).
    static func count(_ url: String, _ sql: String) async throws -> Int {
        try await PostgresAdmin.withConnection(url: url) { connection in
            try await EngineProcessTests.seeEveryTenant(connection)
            // Guarded: a query written just as the server restarts would otherwise never answer.
            for try await count in try await connection.guardedQuery(
                PostgresQuery(unsafeSQL: sql), logger: testLogger()
            )
            .decode(Int.self) {
                return count
            }
            return -1
        }
    }

    /// Polls `sql`'s count (another process moves it) until `done` holds, or until it has not changed
    /// for `stall` (a node that stopped draining fails the test; a slow one on a loaded machine does
    /// not); the last count.
    static func awaitCount(
        _ url: String, _ sql: String, stall: Duration, until done: (Int) -> Bool
    ) async throws -> Int {
        var last = try await count(url, sql)
        var changed = ContinuousClock.now
        while !done(last), ContinuousClock.now - changed < stall {
            try await Task.sleep(for: .milliseconds(100))
            let now = try await count(url, sql)
            if now != last { changed = ContinuousClock.now }
            last = now
        }
        return last
    }

    /// Creates an instance through the API; its id when the node answered 201 (the run was accepted).
    static func createInstance(_ address: String, tenant: TenantID, agent: UUID, n: Int) async -> String? {
        var request = URLRequest(url: URL(string: "\(address)/api/v1/instances")!)
        request.httpMethod = "POST"
        request.timeoutInterval = 10
        request.setValue("Bearer \(testAdminKey)", forHTTPHeaderField: "Authorization")
        request.setValue(tenant.description, forHTTPHeaderField: "X-Tenant-ID")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(#"{"agent_id":"\#(agent.lowercasedString)","name":"Load \#(n)"}"#.utf8)
        guard let (data, response) = try? await URLSession.shared.data(for: request),
            (response as? HTTPURLResponse)?.statusCode == 201
        else { return nil }
        return (try? JSONDecoder().decode(JSONValue.self, from: data))?["id"]?.stringValue?.lowercased()
    }

    /// PostgresNIO 1.33.2 loses a query written to a connection that has just closed (its result never
    /// comes; vapor/postgres-nio#487, reverted in #501): before every statement went through
    /// `guardedQuery`, handlers stuck so kept their worker slots and the node stopped draining (2,879 of
    /// 3,000 runs left).
    @Test
    func postgreSQLRestartedUnderLoadLosesNoAcceptedRun() async throws {
        try await PrivatePostgres.run { postgres in
            let database = postgres.database
            // Room for every instance the producers create (the default quota is 100).
            var quotas = TenantQuotas.defaults
            quotas.maxInstances = 1_000_000
            quotas.requestsPerMinute = 1_000_000
            let seeded = try await EngineProcessTests.seedWithAgent(database, endpoint: nil, quotas: quotas)
            let queued = 3000
            try await withRunningStore(try database.openStore()) { store in
                for _ in 0..<(queued / 1000) {
                    _ = try await store.runs.enqueue(
                        (0..<1000).map { _ in
                            PlatformRuns.teardown(
                                Fixtures.instance(seeded.tenant, agent: Fixtures.agent()), at: .now())
                        })
                }
            }
            let node = try AgentplaneProcess(
                EngineProcessTests.nodeArguments("serve", database) + ["--worker-concurrency", "16"],
                environment: EngineProcessTests.environment)
            let address = try await EngineProcessTests.ready(node)
            let teardownsLeft =
                "SELECT count(*)::int FROM runs WHERE kind = 'instance.teardown' AND status <> 'succeeded'"

            // Producers create instances (each enqueues its provisioning run) before, during and after
            // the restart; the ones answered 201 were accepted and must all be provisioned.
            let accepted = LockedValue<[String]>([])
            let restarted = LockedValue(false)
            let acceptedAfterRestart = Latch(count: 20)
            let producers = Task {
                try await withThrowingDiscardingTaskGroup { group in
                    for producer in 0..<4 {
                        group.addTask {
                            var n = 0
                            // Until 20 were accepted after the restart: the work stays bounded however
                            // slow the machine.
                            while !Task.isCancelled, acceptedAfterRestart.remaining > 0 {
                                n += 1
                                guard
                                    let id = await Self.createInstance(
                                        address, tenant: seeded.tenant, agent: seeded.agent, n: producer * 100_000 + n)
                                else { continue }
                                accepted.withLock { $0.append(id) }
                                if restarted.withLock({ $0 }) { acceptedAfterRestart.countDown() }
                            }
                        }
                    }
                }
            }
            defer { producers.cancel() }

            // Under load: some of the queued runs done, most not.
            let left = try await Self.awaitCount(postgres.url, teardownsLeft, stall: .seconds(60)) {
                $0 <= queued - 200
            }
            #expect(left > 0, "the restart must come while runs are queued")
            try await postgres.restart(downtime: .seconds(2))
            restarted.withLock { $0 = true }
            // The API is back: requests are accepted again after the restart.
            try await acceptedAfterRestart.wait(within: .seconds(60))
            producers.cancel()
            _ = try? await producers.value

            // Every queued run and every accepted instance's provisioning ran, each exactly once.
            let ids = accepted.withLock { $0 }
            #expect(ids.count >= 20)
            let unfinished = try await Self.awaitCount(
                postgres.url,
                """
                SELECT count(*)::int FROM runs
                WHERE kind IN ('instance.teardown', 'instance.provision') AND status <> 'succeeded'
                """, stall: .seconds(60)
            ) { $0 == 0 }
            #expect(unfinished == 0, "runs left unfinished after the restart")
            let idList = ids.map { "'\($0)'" }.joined(separator: ",")
            #expect(
                try await Self.count(
                    postgres.url,
                    "SELECT count(*)::int FROM instances WHERE id::text IN (\(idList)) AND status = 'running'")
                    == ids.count, "every accepted instance was provisioned")
            #expect(
                try await Self.count(
                    postgres.url,
                    """
                    SELECT count(*)::int FROM runs r WHERE r.kind = 'instance.provision'
                      AND r.arguments->>'instance_id' IN (\(idList))
                    """) == ids.count, "one provisioning run per accepted instance")
            #expect(
                try await Self.count(
                    postgres.url,
                    """
                    SELECT count(*)::int FROM runs r
                    WHERE r.kind IN ('instance.teardown', 'instance.provision') AND (SELECT count(*) FROM run_attempts a
                      WHERE a.run_id = r.id AND a.outcome = 'succeeded') <> 1
                    """) == 0, "each run succeeded exactly once")
            node.signal(SIGTERM)
            #expect(await node.waitForExit(within: .seconds(30)) == 0, "\(node.outputText.suffix(3000))")
        }
    }
}
