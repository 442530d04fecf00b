import AgentplaneApp
import AgentplaneCore
import AgentplanePostgres
import AgentplaneStore
import AgentplaneTesting
import Foundation
import HTTPTypes
import PostgresNIO
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The job engine with real processes: a node killed with SIGKILL mid-run, a node stopped with
/// SIGTERM under load, and two worker processes sharing one PostgreSQL. Side effects are counted
/// where they happen (requests reaching an agent service on loopback, status changes in the log,
/// attempts in the database).
@Suite(.timeLimit(.minutes(5))) struct EngineProcessTests {
    static let lease = "3"

    static func nodeArguments(_ command: String, _ database: IsolatedDatabase) -> [String] {
        [command, "--port", "0", "--lease-seconds", lease, "--allow-outbound-host", "127.0.0.1"]
            + ServeTests.arguments(database)
    }

    static let environment = ["AGENTPLANE_BOOTSTRAP_KEY": testAdminKey]

    /// Seeds a tenant, an agent, and an instance whose endpoint is `endpoint` (its provisioning run
    /// queued with it), through the use cases.
    static func seed(_ database: IsolatedDatabase, endpoint: String?) async throws -> (TenantID, UUID) {
        let seeded = try await seedWithAgent(database, endpoint: endpoint)
        return (seeded.tenant, seeded.instance)
    }

    /// `seed`, also naming the agent (for more instances created through the API).
    static func seedWithAgent(
        _ database: IsolatedDatabase, endpoint: String?, quotas: TenantQuotas = .defaults
    ) async throws -> (tenant: TenantID, agent: UUID, instance: UUID) {
        try await withRunningStore(try database.openStore()) { store in
            _ = try await store.migrate()
            let tenant = try await Fixtures.createTenant(in: store, quotas: quotas).id
            let agent = Fixtures.agent()
            try await store.agents.create(agent, record: Fixtures.record(.platform))
            let useCases = UseCases(store: store, passwords: PasswordHasher(cost: 4))
            let instance = try await useCases.createInstance(
                CreateInstance(
                    agentID: agent.id.lowercasedString, name: "Slow agent",
                    config: endpoint.map { ["endpoint": .string($0)] } ?? [:]),
                tenant: tenant, by: Caller(principal: .system, operation: "test"))
            return (tenant, agent.id, instance.id)
        }
    }

    static func get(_ url: String, tenant: TenantID) async throws -> JSONValue {
        var request = URLRequest(url: URL(string: url)!)
        request.setValue("Bearer \(testAdminKey)", forHTTPHeaderField: "Authorization")
        request.setValue(tenant.description, forHTTPHeaderField: "X-Tenant-ID")
        let (data, _) = try await URLSession.shared.data(for: request)
        return try JSONDecoder().decode(JSONValue.self, from: data)
    }

    /// GETs until `done` holds (the state another process moves it to); fails after `timeout`.
    static func await(
        _ url: String, tenant: TenantID, timeout: Duration = .seconds(60), until done: (JSONValue) -> Bool
    ) async throws -> JSONValue {
        let deadline = ContinuousClock.now + timeout
        var last: JSONValue = .null
        while ContinuousClock.now < deadline {
            last = try await get(url, tenant: tenant)
            if done(last) { return last }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw AwaitTimeout(description: "\(url) did not reach the awaited state; last: \(last)")
    }

    /// Lifts row-level security for this session (every tenant's rows, as the platform's own work does).
    static func seeEveryTenant(_ connection: PostgresConnection) async throws {
        try await connection.guardedQuery("SELECT set_config('app.tenant_id', '*', false)", logger: testLogger())
    }

    /// An agent service's answers: the first waits for `release` (a probe in flight), the rest are 200.
    static func holdingTheFirstAnswer(until release: Latch) -> @Sendable (Int) async -> HTTPResponse.Status {
        { n in
            if n == 1 { try? await release.wait(within: .seconds(240)) }
            return .ok
        }
    }

    static func ready(_ node: AgentplaneProcess) async throws -> String {
        let line = try #require(await node.firstLine { $0.contains("agentplane is ready") }, "\(node.outputText)")
        return try #require(ServeTests.address(in: line))
    }

    @Test(arguments: TestBackend.allCases)
    func aNodeKilledMidRunLosesNothingAndTheRunCompletesOnceAfterItsLease(backend: TestBackend) async throws {
        // The agent service holds its first answer (the killed node's probe) until the test ends.
        let release = Latch(count: 1)
        try await FakeHTTPServer.run(respond: Self.holdingTheFirstAnswer(until: release)) { agentService, port in
            defer { release.countDown() }
            try await withIsolatedDatabase(backend) { database in
                let (tenant, instance) = try await Self.seed(database, endpoint: "http://127.0.0.1:\(port)/agent")
                let first = try AgentplaneProcess(
                    Self.nodeArguments("serve", database), environment: Self.environment)
                // Its worker claimed the provisioning run and is waiting for the agent service: kill it.
                try await agentService.firstRequest.wait(within: .seconds(60))
                first.signal(SIGKILL)
                #expect(await first.waitForExit() != 0)

                let second = try AgentplaneProcess(
                    Self.nodeArguments("serve", database), environment: Self.environment)
                let address = try await Self.ready(second)
                let started = ContinuousClock.now
                let settled = try await Self.await("\(address)/api/v1/instances/\(instance)", tenant: tenant) {
                    $0["status"] == "running" || $0["status"] == "failed"
                }
                #expect(settled["status"] == "running", "\(settled)")
                // Rescued within the lease plus one sweep (5 s) and a backoff step, not an hour.
                #expect(ContinuousClock.now - started < .seconds(30))
                // Side effects: the agent service was asked twice (the dead node's request, the
                // rescuer's), the instance became running exactly once.
                #expect(agentService.requests == 2)
                let events = try await Self.get(
                    "\(address)/api/v1/events?subject=instances/\(instance.lowercasedString)&type=instance.status_changed",
                    tenant: tenant)
                let changes = events["events"]?.arrayValue?.compactMap { $0["data"]?["to"]?.stringValue }
                #expect(changes == ["provisioning", "running"], "\(events)")
                let runs = try await Self.get(
                    "\(address)/api/v1/runs?instance_id=\(instance)&kind=instance.provision", tenant: tenant)
                let run = try #require(runs["runs"]?.arrayValue?.first?["id"]?.stringValue)
                let detail = try await Self.get("\(address)/api/v1/runs/\(run)", tenant: tenant)
                #expect(detail["status"] == "succeeded")
                #expect(detail["attempts"]?.arrayValue?.map { $0["outcome"] } == ["lost", "succeeded"])
                let workers = Set(detail["attempts"]?.arrayValue?.compactMap { $0["worker_id"]?.stringValue } ?? [])
                #expect(workers.count == 2, "the rescuer is another worker")

                second.signal(SIGTERM)
                #expect(await second.waitForExit(within: .seconds(30)) == 0)
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func sigtermUnderLoadHandsBackWhatRunsAndLosesNothing(backend: TestBackend) async throws {
        let release = Latch(count: 1)
        try await FakeHTTPServer.run(respond: Self.holdingTheFirstAnswer(until: release)) { agentService, port in
            defer { release.countDown() }
            try await withIsolatedDatabase(backend) { database in
                let (tenant, instance) = try await Self.seed(database, endpoint: "http://127.0.0.1:\(port)/agent")
                // Load: 300 teardown runs queued besides the provisioning.
                let others = try await withRunningStore(try database.openStore()) { store in
                    try await store.runs.enqueue(
                        (0..<300).map { _ in
                            PlatformRuns.teardown(
                                Fixtures.instance(tenant, agent: Fixtures.agent()), at: .now())
                        }
                    ).map(\.id)
                }
                let first = try AgentplaneProcess(
                    Self.nodeArguments("serve", database), environment: Self.environment)
                try await agentService.firstRequest.wait(within: .seconds(60))
                first.signal(SIGTERM)
                // Graceful: the stuck probe is handed back within the grace, and the node exits 0.
                #expect(await first.waitForExit(within: .seconds(60)) == 0, "\(first.outputText)")

                let second = try AgentplaneProcess(
                    Self.nodeArguments("serve", database), environment: Self.environment)
                let address = try await Self.ready(second)
                let settled = try await Self.await("\(address)/api/v1/instances/\(instance)", tenant: tenant) {
                    $0["status"] == "running"
                }
                #expect(settled["status"] == "running")
                let runs = try await Self.get(
                    "\(address)/api/v1/runs?instance_id=\(instance)&kind=instance.provision", tenant: tenant)
                let run = try #require(runs["runs"]?.arrayValue?.first?["id"]?.stringValue)
                let detail = try await Self.get("\(address)/api/v1/runs/\(run)", tenant: tenant)
                // The stuck probe either timed out inside the shutdown grace (its 5 s timeout is shorter
                // than the 10 s grace: a failed attempt, retried) or was handed back (not counted);
                // either way the run completed once, on the next node.
                let outcomes = detail["attempts"]?.arrayValue?.compactMap { $0["outcome"]?.stringValue } ?? []
                #expect(outcomes.last == "succeeded")
                #expect(outcomes.count == 2 && ["handed_back", "failed"].contains(outcomes[0]), "\(outcomes)")
                #expect(outcomes.filter { $0 == "succeeded" }.count == 1)
                // Every queued run ran, each once.
                for id in others.prefix(20) {
                    let other = try await Self.await("\(address)/api/v1/runs/\(id)", tenant: tenant) {
                        $0["status"] == "succeeded"
                    }
                    #expect(other["attempts"]?.arrayValue?.filter { $0["outcome"] == "succeeded" }.count == 1)
                }
                let all = try await Self.await(
                    "\(address)/api/v1/runs?kind=instance.teardown&status=succeeded&limit=1000", tenant: tenant
                ) { $0["runs"]?.arrayValue?.count == 300 }
                #expect(all["runs"]?.arrayValue?.count == 300)
                second.signal(SIGTERM)
                #expect(await second.waitForExit(within: .seconds(30)) == 0)
            }
        }
    }

    @Test func twoWorkerProcessesOnOnePostgreSQLRunTenThousandRunsEachOnce() async throws {
        try await withIsolatedDatabase(.postgres) { database in
            let (tenant, _) = try await Self.seed(database, endpoint: nil)
            let total = 10_000
            try await withRunningStore(try database.openStore()) { store in
                for _ in 0..<(total / 1000) {
                    _ = try await store.runs.enqueue(
                        (0..<1000).map { _ in
                            PlatformRuns.teardown(Fixtures.instance(tenant, agent: Fixtures.agent()), at: .now())
                        })
                }
            }
            let workers = try (0..<2).map { _ in
                try AgentplaneProcess(
                    Self.nodeArguments("worker", database) + ["--worker-concurrency", "16"],
                    environment: Self.environment)
            }
            let url = try #require(database.postgresURL)
            // Done when no teardown run is left unfinished (the database is the signal; checked
            // every 200 ms, failing after 4 minutes).
            let deadline = ContinuousClock.now + .seconds(240)
            var open = -1
            while ContinuousClock.now < deadline {
                open = try await PostgresAdmin.withConnection(url: url) { connection in
                    try await Self.seeEveryTenant(connection)
                    let rows = try await connection.query(
                        "SELECT count(*)::int FROM runs WHERE kind = 'instance.teardown' AND status <> 'succeeded'",
                        logger: testLogger())
                    for try await count in rows.decode(Int.self) { return count }
                    return -1
                }
                if open == 0 { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(open == 0)
            for worker in workers { worker.signal(SIGTERM) }
            for worker in workers {
                #expect(await worker.waitForExit(within: .seconds(30)) == 0, "\(worker.outputText.suffix(2000))")
            }
            // Each run was claimed once (one attempt, succeeded), and both processes took a share.
            let (attempts, perWorker) = try await PostgresAdmin.withConnection(url: url) { connection in
                try await Self.seeEveryTenant(connection)
                var attempts: [Int: Int] = [:]
                for try await (count, runs) in try await connection.query(
                    """
                    SELECT n::int, count(*)::int FROM (
                        SELECT count(*) AS n FROM run_attempts a JOIN runs r ON r.id = a.run_id
                        WHERE r.kind = 'instance.teardown' GROUP BY a.run_id) per_run
                    GROUP BY n
                    """, logger: testLogger()
                ).decode((Int, Int).self) { attempts[count] = runs }
                var perWorker: [String: Int] = [:]
                for try await (worker, count) in try await connection.query(
                    """
                    SELECT a.worker_id, count(*)::int FROM run_attempts a JOIN runs r ON r.id = a.run_id
                    WHERE r.kind = 'instance.teardown' AND a.outcome = 'succeeded' GROUP BY a.worker_id
                    """, logger: testLogger()
                ).decode((String, Int).self) { perWorker[worker] = count }
                return (attempts, perWorker)
            }
            #expect(attempts == [1: total], "attempts per run → runs: \(attempts)")
            #expect(perWorker.count == 2, "\(perWorker)")
            #expect(perWorker.values.reduce(0, +) == total)
        }
    }
}
