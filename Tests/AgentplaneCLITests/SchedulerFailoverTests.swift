import AgentplaneCore
import AgentplaneStore
import AgentplaneTesting
import Foundation
import PostgresNIO
import Testing

/// The scheduler across real processes on one PostgreSQL: the node holding the scheduler lease is killed
/// with SIGKILL, another node takes the lease over within 15 s, and the task's fires go on with none doubled
/// and none missed (the fire times of the gap are late by less than the misfire grace, so they all fire).
@Suite(.timeLimit(.minutes(5))) struct SchedulerFailoverTests {
    /// The scheduled seconds of the task's fires, one entry per run (a doubled fire shows twice).
    static func fireTimes(_ database: IsolatedDatabase, task: UUID) async throws -> [String] {
        try await PostgresAdmin.withConnection(url: try #require(database.postgresURL)) { connection in
            try await EngineProcessTests.seeEveryTenant(connection)
            var times: [String] = []
            let rows = try await connection.query(
                "SELECT arguments->>'scheduled_at' FROM runs WHERE task_id = \(task) ORDER BY 1", logger: testLogger())
            for try await time in rows.decode(String.self) { times.append(time) }
            return times
        }
    }

    /// Polls until `done` holds for the task's fire times; fails after `timeout`.
    static func awaitFires(
        _ database: IsolatedDatabase, task: UUID, timeout: Duration = .seconds(60), until done: ([String]) -> Bool
    ) async throws -> [String] {
        let deadline = ContinuousClock.now + timeout
        var last: [String] = []
        while ContinuousClock.now < deadline {
            last = try await fireTimes(database, task: task)
            if done(last) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw AwaitTimeout(description: "the task's fires did not come: \(last)")
    }

    static let takeover = "scheduler lease taken"

    @Test func theSchedulersNodeKilledIsReplacedWithinFifteenSecondsWithNoFireDoubledOrMissed() async throws {
        try await withIsolatedDatabase(.postgres) { database in
            let task = try await withRunningStore(try database.openStore()) { store in
                _ = try await store.migrate()
                let tenant = try await Fixtures.createTenant(in: store).id
                return try await Fixtures.createTask(in: store, tenant) { $0.scheduleExpr = "* * * * * *" }
            }
            let arguments = ["serve", "--port", "0"] + ServeTests.arguments(database)
            let first = try AgentplaneProcess(arguments, environment: EngineProcessTests.environment)
            _ = try await EngineProcessTests.ready(first)
            #expect(await first.firstLine(within: .seconds(30)) { $0.contains(Self.takeover) } != nil)
            let second = try AgentplaneProcess(arguments, environment: EngineProcessTests.environment)
            _ = try await EngineProcessTests.ready(second)
            let before = try await Self.awaitFires(database, task: task.id) { $0.count >= 3 }
            first.signal(SIGKILL)
            let killed = ContinuousClock.now
            _ = await first.waitForExit()
            let taken = await second.firstLine(within: .seconds(30)) { $0.contains(Self.takeover) }
            let gap = ContinuousClock.now - killed
            #expect(taken != nil, "\(second.outputText)")
            #expect(gap < .seconds(15), "the lease was taken over after \(gap)")
            let after = try await Self.awaitFires(database, task: task.id) { $0.count >= before.count + 20 }
            second.signal()
            _ = await second.waitForExit()
            let all = try await Self.fireTimes(database, task: task.id)
            #expect(Set(all).count == all.count, "doubled fires: \(all)")
            // Every second from the first fire to the last fired once: the gap was caught up.
            let seconds = all.compactMap { Timestamp(rfc3339: $0)?.microsecondsSinceEpoch }.map { $0 / 1_000_000 }
            let span = Int((seconds.max() ?? 0) - (seconds.min() ?? 0)) + 1
            #expect(span == seconds.count, "missed fires between \(all.first ?? "-") and \(all.last ?? "-")")
            #expect(after.count >= before.count + 20)
        }
    }
}
