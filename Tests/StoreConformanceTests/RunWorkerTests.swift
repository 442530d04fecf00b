import AgentplaneCore
import AgentplaneEngine
import AgentplaneStore
import AgentplaneTesting
import Foundation
import ServiceLifecycle
import Testing

/// The worker, in process, against a real store on both backends: it drains runs exactly once, turns
/// failures into retries and dead letters, passes cancels to the handler, rescues a dead worker's runs
/// when their lease expires, and at shutdown hands back what has not finished without spending its
/// attempt.
@Suite struct RunWorkerTests {
    static func new(_ tenant: TenantID, kind: String = "test.count", maxAttempts: Int = 3) -> NewRun {
        NewRun(
            kind: kind, tenantID: tenant, runAt: .now(), maxAttempts: maxAttempts,
            backoff: Backoff(strategy: .fixed, baseSeconds: 0, capSeconds: 0), createdAt: .now())
    }

    static func settings(_ id: String, concurrency: Int = 4, lease: Duration = .seconds(30)) -> RunWorkerSettings {
        RunWorkerSettings(
            workerID: id, concurrency: concurrency, lease: lease, heartbeatInterval: .milliseconds(100),
            pollInterval: .milliseconds(200), rescueInterval: .milliseconds(100), shutdownGrace: .milliseconds(300))
    }

    /// Runs `worker` in a service group until `body` returns, then shuts it down gracefully.
    static func running<T: Sendable>(_ worker: RunWorker, _ body: () async throws -> T) async throws -> T {
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: [.init(service: worker)], logger: testLogger()))
        let task = Task { try await group.run() }
        do {
            let result = try await body()
            await group.triggerGracefulShutdown()
            try await task.value
            return result
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await task.value
            throw error
        }
    }

    /// Returns when the calling task is cancelled (an empty stream's iteration ends then): the
    /// handler's signal, with no polling.
    static func untilCancelled() async {
        let (never, continuation) = AsyncStream<Void>.makeStream()
        for await _ in never {}
        continuation.finish()
    }

    /// Waits until `condition` holds, checking after every wake-up of the store or 50 ms.
    static func until(_ store: any Store, within timeout: Duration, _ condition: () async throws -> Bool)
        async throws
    {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw Latch.Timeout(remaining: 1) }
            await store.runWakeup.wait(timeout: .milliseconds(50))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aWorkerDrainsRunsExactlyOnce(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenants = [
                try await Fixtures.createTenant(in: store).id, try await Fixtures.createTenant(in: store).id,
            ]
            let executions = LockedValue([UUID: Int]())
            let done = Latch(count: 200)
            let worker = RunWorker(
                store: store,
                handlers: [
                    "test.count": { context in
                        executions.withLock { $0[context.run.id, default: 0] += 1 }
                        done.countDown()
                        return .object(["seen": .int(Int64(context.run.attempt))])
                    }
                ], settings: Self.settings("w1", concurrency: 8), logger: testLogger())
            let runs = try await store.runs.enqueue((0..<200).map { Self.new(tenants[$0 % 2]) })
            try await Self.running(worker) {
                try await done.wait(within: .seconds(60))
                try await Self.until(store, within: .seconds(30)) {
                    try await store.runs.list(tenant: tenants[0], query: RunQuery(status: .succeeded, limit: 200)).count
                        + store.runs.list(tenant: tenants[1], query: RunQuery(status: .succeeded, limit: 200)).count
                        == 200
                }
            }
            #expect(executions.withLock { $0.count } == 200)
            #expect(executions.withLock { $0.values.allSatisfy { $0 == 1 } })
            let one = try #require(try await store.runs.find(tenant: runs[0].request.tenantID, id: runs[0].id))
            #expect(one.result == .object(["seen": .int(1)]))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aPoisonRunEndsDeadWithEveryErrorRecorded(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let worker = RunWorker(
                store: store,
                handlers: [
                    "test.poison": { context in
                        struct Boom: Error, CustomStringConvertible { var description: String }
                        throw Boom(description: "boom on attempt \(context.run.attempt)")
                    }
                ], settings: Self.settings("w1"), logger: testLogger())
            let run = try await store.runs.enqueue([Self.new(tenant, kind: "test.poison", maxAttempts: 3)])[0]
            try await Self.running(worker) {
                try await Self.until(store, within: .seconds(30)) {
                    try await store.runs.find(tenant: tenant, id: run.id)?.status == .dead
                }
            }
            let attempts = try await store.runs.attempts(tenant: tenant, id: run.id)
            #expect(attempts.map(\.outcome) == [.failed, .failed, .failed])
            #expect(attempts.map(\.error) == (1...3).map { "boom on attempt \($0)" })
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aCancelReachesTheRunningHandler(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let started = Latch(count: 1)
            let worker = RunWorker(
                store: store,
                handlers: [
                    "test.wait": { context in
                        started.countDown()
                        // Waits until cancelled; the worker cancels the task when the cancel is asked.
                        await Self.untilCancelled()
                        #expect(context.isCancelRequested)
                        throw CancellationError()
                    }
                ], settings: Self.settings("w1"), logger: testLogger())
            let run = try await store.runs.enqueue([Self.new(tenant, kind: "test.wait")])[0]
            try await Self.running(worker) {
                try await started.wait(within: .seconds(30))
                _ = try await store.runs.cancel(
                    tenant: tenant, id: run.id, now: .now(), record: Fixtures.record(tenant))
                try await Self.until(store, within: .seconds(30)) {
                    try await store.runs.find(tenant: tenant, id: run.id)?.status == .cancelled
                }
            }
            #expect(try await store.runs.attempts(tenant: tenant, id: run.id).map(\.outcome) == [.cancelled])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aDeadWorkersRunIsRescuedAfterItsLeaseAndRunOnce(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let run = try await store.runs.enqueue([Self.new(tenant)])[0]
            // A worker that claims with a 1 s lease, then dies (never heartbeats, never reports).
            let claimed = try await store.runs.claim(
                ClaimRequest(workerID: "dead", kinds: nil, limit: 1, leaseMicroseconds: 1_000_000, now: .now()))
            #expect(claimed.map(\.id) == [run.id])
            let executions = LockedValue(0)
            let worker = RunWorker(
                store: store,
                handlers: [
                    "test.count": { _ in
                        executions.withLock { $0 += 1 }
                        return .null
                    }
                ], settings: Self.settings("alive"), logger: testLogger())
            try await Self.running(worker) {
                try await Self.until(store, within: .seconds(30)) {
                    try await store.runs.find(tenant: tenant, id: run.id)?.status == .succeeded
                }
            }
            #expect(executions.withLock { $0 } == 1)
            let attempts = try await store.runs.attempts(tenant: tenant, id: run.id)
            #expect(attempts.map(\.outcome) == [.lost, .succeeded])
            #expect(attempts.map(\.workerID) == ["dead", "alive"])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func shutdownHandsBackUnfinishedRunsWithoutSpendingAnAttempt(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let started = Latch(count: 1)
            let worker = RunWorker(
                store: store,
                handlers: [
                    "test.slow": { _ in
                        started.countDown()
                        await Self.untilCancelled()
                        throw CancellationError()
                    }
                ], settings: Self.settings("w1"), logger: testLogger())
            let run = try await store.runs.enqueue([Self.new(tenant, kind: "test.slow")])[0]
            try await Self.running(worker) { try await started.wait(within: .seconds(30)) }
            let back = try #require(try await store.runs.find(tenant: tenant, id: run.id))
            #expect(back.status == .queued && back.attempt == 0 && back.workerID == nil)
            #expect(try await store.runs.attempts(tenant: tenant, id: run.id).isEmpty)
        }
    }

    /// An attempt past the run timeout is cancelled and fails with the timeout as its error; a handler
    /// that ignores the cancel loses its slot after `abandonAfter` (with one slot, the retry could not
    /// start otherwise), and what it reports when it finally returns is ignored.
    @Test(arguments: TestBackend.allCases)
    func attemptsPastTheTimeoutFailAndAHandlerIgnoringItsCancelIsAbandoned(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let stuck = LockedValue<CheckedContinuation<Void, Never>?>(nil)
            let stuckStarted = Latch(count: 1)
            var settings = Self.settings("w1", concurrency: 1)
            settings.runTimeout = .milliseconds(300)
            settings.abandonAfter = .milliseconds(300)
            let worker = RunWorker(
                store: store,
                handlers: [
                    "test.slow": { context in
                        switch context.run.attempt {
                        case 1:
                            // Deaf to cancellation: waits until the test lets it go.
                            await withCheckedContinuation { continuation in
                                stuck.withLock { $0 = continuation }
                                stuckStarted.countDown()
                            }
                            return .string("too late")
                        case 2:
                            await Self.untilCancelled()
                            throw CancellationError()
                        default:
                            return .string("done")
                        }
                    }
                ], settings: settings, logger: testLogger())
            let run = try await store.runs.enqueue([Self.new(tenant, kind: "test.slow", maxAttempts: 3)])[0]
            try await Self.running(worker) {
                try await Self.until(store, within: .seconds(30)) {
                    try await store.runs.find(tenant: tenant, id: run.id)?.status == .succeeded
                }
                try await stuckStarted.wait(within: .seconds(1))
                stuck.withLock { $0?.resume() }
            }
            let attempts = try await store.runs.attempts(tenant: tenant, id: run.id)
            #expect(attempts.map(\.outcome) == [.failed, .failed, .succeeded])
            #expect(attempts.prefix(2).map(\.error) == Array(repeating: "timed out after 0.3 seconds", count: 2))
            #expect(try await store.runs.find(tenant: tenant, id: run.id)?.result == .string("done"))
        }
    }

    /// Two nodes (two stores, each with its own connection pool and LISTEN connection) on one
    /// PostgreSQL drain 1,000 runs with each executed exactly once (SKIP LOCKED claims, NOTIFY
    /// wake-ups across nodes).
    @Test func twoNodesOnOnePostgreSQLDrainEveryRunExactlyOnce() async throws {
        try await withIsolatedDatabase(.postgres) { database in
            let first = try database.openStore()
            let second = try database.openStore()
            try await withRunningStore(first) { first in
                try await withRunningStore(second) { second in
                    _ = try await first.migrate()
                    let tenant = try await Fixtures.createTenant(in: first).id
                    let executions = LockedValue([UUID: [String]]())
                    let done = Latch(count: 1000)
                    let workers = [(first, "node-a"), (second, "node-b")].map { store, id in
                        RunWorker(
                            store: store,
                            handlers: [
                                "test.count": { context in
                                    executions.withLock {
                                        $0[context.run.id, default: []].append(context.run.workerID ?? "?")
                                    }
                                    done.countDown()
                                    return .null
                                }
                            ], settings: Self.settings(id, concurrency: 8), logger: testLogger())
                    }
                    let runs = try await first.runs.enqueue((0..<1000).map { _ in Self.new(tenant) })
                    try await Self.running(workers[0]) {
                        try await Self.running(workers[1]) {
                            try await done.wait(within: .seconds(120))
                            try await Self.until(first, within: .seconds(30)) {
                                try await first.runs.list(
                                    tenant: tenant, query: RunQuery(status: .succeeded, limit: 1000)
                                )
                                .count == 1000
                            }
                        }
                    }
                    #expect(executions.withLock { $0.count } == runs.count)
                    #expect(executions.withLock { $0.values.allSatisfy { $0.count == 1 } })
                    let attempts = try await first.runs.attempts(tenant: tenant, id: runs[0].id)
                    #expect(attempts.count == 1)
                }
            }
        }
    }
}
