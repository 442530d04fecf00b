import AgentplaneCore
import AgentplaneEngine
import AgentplaneStore
import AgentplaneTesting
import Foundation
import Testing

/// The task scheduler against a real store on both backends, on a manual clock: a due task fires once per
/// fire time and its next fire time moves; only the lease holder fires in `run()`; two schedulers firing at
/// once never double a (task, scheduled time); a paused task does not fire and a resumed one is scheduled
/// from the time it resumed.
@Suite struct TaskSchedulerTests {
    /// A whole minute in the past.
    static let t0 = Timestamp(microsecondsSinceEpoch: 1_750_000_020_000_000)

    static func at(seconds: Int64) -> Timestamp { t0.adding(seconds: seconds) }

    static func scheduler(_ store: any Store, _ clock: ManualClock, node: String = "node-a") -> TaskScheduler {
        var settings = TaskSchedulerSettings()
        settings.leaseCheck = .milliseconds(20)
        settings.poll = .milliseconds(20)
        return TaskScheduler(
            store: store, clock: clock, settings: settings, wakeup: RunWakeup(), nodeID: node, logger: testLogger())
    }

    /// The `scheduled_at` of every run of `task`.
    static func scheduled(_ task: AgentTask, in store: any Store) async throws -> [String] {
        try await Fixtures.runs(of: task, in: store).compactMap { $0.request.arguments["scheduled_at"]?.stringValue }
            .sorted()
    }

    /// Waits until `condition` holds, looking after every run wake-up of the store or 20 ms; fails after
    /// `timeout`.
    static func until(_ store: any Store, within timeout: Duration, _ condition: () async throws -> Bool)
        async throws
    {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw Latch.Timeout(remaining: 1) }
            await store.runWakeup.wait(timeout: .milliseconds(20))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aDueTaskFiresOncePerFireTimeAndItsNextFireTimeMoves(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let task = try await Fixtures.createTask(in: store, tenant, at: Self.t0)
            let clock = ManualClock(at: Self.at(seconds: 61))
            let scheduler = Self.scheduler(store, clock)

            let first = try await scheduler.fireDue()
            #expect(first.full == false && first.next == Self.at(seconds: 120))
            #expect(try await Self.scheduled(task, in: store) == [Self.at(seconds: 60).rfc3339])
            let moved = try #require(try await store.tasks.find(tenant: tenant, id: task.id))
            #expect(moved.nextRunAt == Self.at(seconds: 120) && moved.lastRunAt == Self.at(seconds: 60))

            // The same instant again: nothing more.
            _ = try await scheduler.fireDue()
            #expect(try await Self.scheduled(task, in: store).count == 1)
            // Not yet the next fire time: nothing.
            clock.advance(seconds: 58)
            _ = try await scheduler.fireDue()
            #expect(try await Self.scheduled(task, in: store).count == 1)
            clock.advance(seconds: 1)
            _ = try await scheduler.fireDue()
            #expect(
                try await Self.scheduled(task, in: store) == [
                    Self.at(seconds: 60).rfc3339, Self.at(seconds: 120).rfc3339,
                ])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aSchedulerWithoutTheLeaseFiresNothingUntilTheLeaseIsFree(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let clock = ManualClock(at: Self.at(seconds: 61))
            let task = try await Fixtures.createTask(in: store, tenant, at: Self.t0)
            #expect(
                try await store.tasks.holdLease(
                    TaskScheduler.leaseName, holder: "node-other", until: clock.now().adding(seconds: 30),
                    now: clock.now()))
            let scheduler = Self.scheduler(store, clock)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await scheduler.run() }
                defer { group.cancelAll() }
                // About 25 lease checks of the running scheduler: none fires while another node holds it.
                let fired = await #expect(throws: Latch.Timeout.self) {
                    try await Self.until(store, within: .milliseconds(500)) {
                        try await !Fixtures.runs(of: task, in: store).isEmpty
                    }
                }
                #expect(fired != nil)
                // The holder's lease expires (it died): this scheduler takes over and fires.
                clock.advance(seconds: 31)
                try await Self.until(store, within: .seconds(15)) {
                    try await !Fixtures.runs(of: task, in: store).isEmpty
                }
                #expect(
                    try await !store.tasks.holdLease(
                        TaskScheduler.leaseName, holder: "node-other", until: clock.now().adding(seconds: 30),
                        now: clock.now()))
            }
            // The fire time the dead holder left undone fires once.
            #expect(try await Self.scheduled(task, in: store) == [Self.at(seconds: 60).rfc3339])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func twoSchedulersFiringAtOnceNeverDoubleAFire(backend: TestBackend) async throws {
        try await withIsolatedDatabase(backend) { database in
            try await withRunningStore(try database.openStore()) { store in
                _ = try await store.migrate()
                guard backend == .postgres else { return try await Self.race(store, store) }
                // A second node with a pool of its own (SQLite serves one node, so there one store).
                try await withRunningStore(try database.openStore()) { try await Self.race(store, $0) }
            }
        }
    }

    /// Two schedulers, one per store, both firing at each of five fire times.
    static func race(_ store: any Store, _ secondStore: any Store) async throws {
        let tenant = try await Fixtures.createTenant(in: store).id
        var tasks: [AgentTask] = []
        for _ in 0..<10 { tasks.append(try await Fixtures.createTask(in: store, tenant, at: Self.t0)) }
        let clock = ManualClock(at: Self.at(seconds: 60))
        let schedulers = [
            Self.scheduler(store, clock, node: "node-a"), Self.scheduler(secondStore, clock, node: "node-b"),
        ]
        for _ in 0..<5 {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for scheduler in schedulers { group.addTask { _ = try await scheduler.fireDue() } }
                try await group.waitForAll()
            }
            clock.advance(seconds: 60)
        }
        for task in tasks {
            #expect(
                try await Self.scheduled(task, in: store) == (1...5).map { Self.at(seconds: Int64($0) * 60).rfc3339 })
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aPausedTaskDoesNotFireAndAResumedOneIsScheduledFromNow(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let task = try await Fixtures.createTask(in: store, tenant, at: Self.t0)
            let clock = ManualClock(at: Self.at(seconds: 10))
            let context = {
                TaskContext(caller: "test", events: EventContext(), now: clock.now(), defaultTimezone: "UTC")
            }
            let pause = try TaskDecisions.transition(task, to: .paused, expectedVersion: nil, context: context())
            let paused = try await store.tasks.update(
                pause.state, expectedVersion: pause.expectedVersion, from: .active, record: Fixtures.record(tenant))
            let scheduler = Self.scheduler(store, clock)
            clock.advance(seconds: 600)
            _ = try await scheduler.fireDue()
            #expect(try await Fixtures.runs(of: task, in: store).isEmpty)

            clock.advance(seconds: 20)  // t0 + 630 s
            let resume = try TaskDecisions.transition(paused, to: .active, expectedVersion: nil, context: context())
            let resumed = try await store.tasks.update(
                resume.state, expectedVersion: resume.expectedVersion, from: .paused, record: Fixtures.record(tenant))
            #expect(resumed.nextRunAt == Self.at(seconds: 660))
            _ = try await scheduler.fireDue()
            #expect(try await Fixtures.runs(of: task, in: store).isEmpty)
            clock.advance(seconds: 30)
            _ = try await scheduler.fireDue()
            #expect(try await Self.scheduled(task, in: store) == [Self.at(seconds: 660).rfc3339])
        }
    }
}
