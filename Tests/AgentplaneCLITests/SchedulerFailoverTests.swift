import AgentplaneCore
import AgentplaneStore
import AgentplaneTesting
import Foundation
import Testing

/// The scheduler across real processes on one PostgreSQL: the node holding the scheduler lease is killed
/// with SIGKILL, another node takes the lease over within 15 s, and the task's fires go on with none doubled
/// and none missed (the fire times of the gap are late by less than the misfire grace, so they all fire).
@Suite(.timeLimit(.minutes(5))) struct SchedulerFailoverTests {
    /// The scheduled times of the task's fires, ascending, one entry per run (a doubled fire shows twice), once
    /// `done` holds for them: read through the API of the node at `address` (the shared polling helper).
    static func awaitFires(
        _ address: String, task: AgentTask, timeout: Duration = .seconds(60), until done: @escaping ([String]) -> Bool
    ) async throws -> [String] {
        let times = { (page: JSONValue) in
            (page["runs"]?.arrayValue ?? []).compactMap { $0["arguments"]?["scheduled_at"]?.stringValue }.sorted()
        }
        let page = try await EngineProcessTests.await(
            "\(address)/api/v1/runs?task_id=\(task.id.lowercasedString)&limit=1000", tenant: task.tenantID,
            timeout: timeout
        ) { done(times($0)) }
        return times(page)
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
            let firstAddress = try await EngineProcessTests.ready(first)
            #expect(await first.firstLine(within: .seconds(30)) { $0.contains(Self.takeover) } != nil)
            let second = try AgentplaneProcess(arguments, environment: EngineProcessTests.environment)
            let secondAddress = try await EngineProcessTests.ready(second)
            let before = try await Self.awaitFires(firstAddress, task: task) { $0.count >= 3 }
            first.signal(SIGKILL)
            let killed = ContinuousClock.now
            _ = await first.waitForExit()
            let taken = await second.firstLine(within: .seconds(30)) { $0.contains(Self.takeover) }
            let gap = ContinuousClock.now - killed
            #expect(taken != nil, "\(second.outputText)")
            #expect(gap < .seconds(15), "the lease was taken over after \(gap)")
            _ = try await Self.awaitFires(secondAddress, task: task) { $0.count >= before.count + 20 }
            second.signal()
            _ = await second.waitForExit()
            let all = try await withRunningStore(try database.openStore()) { store in
                try await Fixtures.runs(of: task, in: store).compactMap {
                    $0.request.arguments["scheduled_at"]?.stringValue
                }
            }
            #expect(Set(all).count == all.count, "doubled fires: \(all.sorted())")
            // Every second from the first fire to the last fired once: the gap was caught up.
            let seconds = all.compactMap { Timestamp(rfc3339: $0)?.microsecondsSinceEpoch }.map { $0 / 1_000_000 }
            let span = Int((seconds.max() ?? 0) - (seconds.min() ?? 0)) + 1
            #expect(span == seconds.count, "missed fires between \(seconds.min() ?? 0) and \(seconds.max() ?? 0)")
            #expect(all.count >= before.count + 20)
        }
    }
}
