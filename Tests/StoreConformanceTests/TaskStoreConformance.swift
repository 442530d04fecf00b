import AgentplaneCore
import AgentplaneStore
import AgentplaneTesting
import Foundation
import Testing

/// Tasks behave alike on both backends: stored and listed by filter and cursor, versioned writes, the
/// `max_tasks` quota, fires that enqueue their run at most once per (task, fire key) even when applied twice
/// or concurrently, the scheduler lease, step logs, and `complete` only from `active`.
@Suite struct TaskStoreConformance {
    /// A whole minute in the past, so fire times fall on it.
    static let t0 = Timestamp(microsecondsSinceEpoch: 1_750_000_020_000_000)

    static func at(seconds: Int64) -> Timestamp { t0.adding(seconds: seconds) }

    static func kind(_ error: StoreError?) -> StoreError.Kind? { error?.kind }

    @Test(arguments: TestBackend.allCases)
    func tasksAreFoundAndListedByStatusCreatorKindAndCursor(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let other = try await Fixtures.createTenant(in: store).id
            let cron = try await Fixtures.createTask(in: store, tenant, at: Self.t0) { $0.createdBy = "agent-1" }
            let rrule = try await Fixtures.createTask(in: store, tenant, at: Self.t0) {
                $0.scheduleKind = "rrule"
                $0.scheduleExpr = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=8;BYMINUTE=30"
                $0.timezone = "Europe/Chisinau"
                $0.createdBy = "agent-2"
                $0.payload = [
                    "pipeline": .array([["id": "a", "uses": "log", "with": ["n": .int(1)]]]), "note": "keep",
                ]
            }
            let event = try await Fixtures.createTask(in: store, tenant, at: Self.t0) {
                $0.scheduleKind = "event"
                $0.scheduleExpr = "order.*"
                $0.createdBy = "agent-1"
            }
            try await Fixtures.createTask(in: store, other, at: Self.t0)
            // Stored as decided, every field.
            #expect(try await store.tasks.find(tenant: tenant, id: rrule.id) == rrule)
            #expect(try await store.tasks.find(tenant: other, id: rrule.id) == nil)
            var paused = rrule
            paused.status = .paused
            paused.version = 2
            _ = try await store.tasks.update(paused, expectedVersion: 1, from: .active, record: Fixtures.record(tenant))

            func ids(_ query: TaskQuery) async throws -> [UUID] {
                try await store.tasks.list(tenant: tenant, query: query).map(\.id)
            }
            #expect(try await ids(TaskQuery()) == [cron.id, rrule.id, event.id])
            #expect(try await ids(TaskQuery(status: .paused)) == [rrule.id])
            #expect(try await ids(TaskQuery(status: .active)) == [cron.id, event.id])
            #expect(try await ids(TaskQuery(createdBy: "agent-1")) == [cron.id, event.id])
            #expect(try await ids(TaskQuery(scheduleKind: "event")) == [event.id])
            #expect(try await ids(TaskQuery(status: .active, createdBy: "agent-2")).isEmpty)
            #expect(try await ids(TaskQuery(limit: 2)) == [cron.id, rrule.id])
            #expect(try await ids(TaskQuery(after: rrule.id, limit: 2)) == [event.id])
            #expect(try await store.tasks.list(tenant: other, query: TaskQuery()).count == 1)
            #expect(try await store.tasks.eventTasks(tenant: tenant).map(\.id) == [event.id])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func updatesNeedTheVersionAndStatusReadAndDeletesAreFinal(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let task = try await Fixtures.createTask(in: store, tenant, at: Self.t0)
            var changed = task
            changed.title = "Renamed"
            changed.priority = 2
            changed.version = 2
            let saved = try await store.tasks.update(
                changed, expectedVersion: 1, from: .active, record: Fixtures.record(tenant))
            #expect(saved == changed)
            #expect(try await store.tasks.find(tenant: tenant, id: task.id) == changed)
            // A writer that read version 1 is refused, and so is one that read another status.
            let stale = await #expect(throws: StoreError.self) {
                try await store.tasks.update(
                    changed, expectedVersion: 1, from: .active, record: Fixtures.record(tenant))
            }
            #expect(Self.kind(stale) == .staleVersion)
            let otherStatus = await #expect(throws: StoreError.self) {
                try await store.tasks.update(
                    changed, expectedVersion: 2, from: .paused, record: Fixtures.record(tenant))
            }
            #expect(Self.kind(otherStatus) == .staleVersion)
            var ghost = changed
            ghost.id = UUIDv7.make()
            let missing = await #expect(throws: StoreError.self) {
                try await store.tasks.update(ghost, expectedVersion: 2, from: .active, record: Fixtures.record(tenant))
            }
            #expect(Self.kind(missing) == .notFound)

            try await store.tasks.delete(tenant: tenant, id: task.id, record: Fixtures.record(tenant))
            #expect(try await store.tasks.find(tenant: tenant, id: task.id) == nil)
            let again = await #expect(throws: StoreError.self) {
                try await store.tasks.delete(tenant: tenant, id: task.id, record: Fixtures.record(tenant))
            }
            #expect(Self.kind(again) == .notFound)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func theTaskQuotaRefusesTheThirdOfTwoAndADeleteFreesOne(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            var quotas = TenantQuotas.defaults
            quotas.maxTasks = 2
            let tenant = try await Fixtures.createTenant(in: store, quotas: quotas).id
            let first = try await Fixtures.createTask(in: store, tenant)
            try await Fixtures.createTask(in: store, tenant)
            let full = await #expect(throws: StoreError.self) { try await Fixtures.createTask(in: store, tenant) }
            #expect(Self.kind(full) == .quotaExceeded(limit: 2))
            #expect(try await store.tasks.list(tenant: tenant, query: TaskQuery()).count == 2)
            try await store.tasks.delete(tenant: tenant, id: first.id, record: Fixtures.record(tenant))
            try await Fixtures.createTask(in: store, tenant)
            let again = await #expect(throws: StoreError.self) { try await Fixtures.createTask(in: store, tenant) }
            #expect(Self.kind(again) == .quotaExceeded(limit: 2))
        }
    }

    /// A `*/1` task due at `t0 + 60 s`, and the scheduler's firing of it 5 s later.
    static func dueTask(_ store: any Store, _ tenant: TenantID) async throws -> (AgentTask, TaskFiring) {
        let task = try await Fixtures.createTask(in: store, tenant, at: t0)
        #expect(task.nextRunAt == at(seconds: 60))
        let firing = TaskDecisions.due(task, now: at(seconds: 65))
        #expect(firing.fires.count == 1)
        return (task, firing)
    }

    @Test(arguments: TestBackend.allCases)
    func applyEnqueuesOneRunPerFireAndTheSameFiringTwiceNothing(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let (task, firing) = try await Self.dueTask(store, tenant)
            #expect(try await store.tasks.due(now: Self.at(seconds: 59), limit: 10).isEmpty)
            #expect(try await store.tasks.due(now: Self.at(seconds: 65), limit: 10).map(\.id) == [task.id])
            #expect(try await store.tasks.nextDue() == Self.at(seconds: 60))

            #expect(try await store.tasks.apply([firing], now: Self.at(seconds: 65)) == 1)
            let runs = try await Fixtures.runs(of: task, in: store)
            #expect(runs.count == 1)
            #expect(runs.first?.request.taskID == task.id && runs.first?.request.kind == "task.run")
            #expect(runs.first?.request.arguments["scheduled_at"] == .string(Self.at(seconds: 60).rfc3339))
            let moved = try #require(try await store.tasks.find(tenant: tenant, id: task.id))
            #expect(moved.nextRunAt == Self.at(seconds: 120) && moved.lastRunAt == Self.at(seconds: 60))
            let fired = try await store.events.list(
                tenant: tenant, query: EventQuery(type: "task.fired", subject: "tasks/\(task.id.lowercasedString)"))
            #expect(fired.count == 1)
            #expect(fired.first?.data["run_id"] == .string(runs[0].id.lowercasedString))

            // The same firing again (a second scheduler that read the same row): nothing.
            #expect(try await store.tasks.apply([firing], now: Self.at(seconds: 66)) == 0)
            // Even when the row's next_run_at is back at the fired time, the fire key holds.
            var rewound = moved
            rewound.nextRunAt = Self.at(seconds: 60)
            rewound.version = moved.version + 1
            _ = try await store.tasks.update(
                rewound, expectedVersion: moved.version, from: .active, record: Fixtures.record(tenant))
            #expect(try await store.tasks.apply([firing], now: Self.at(seconds: 67)) == 0)
            #expect(try await Fixtures.runs(of: task, in: store).count == 1)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func concurrentAppliesOfTheSameFiringEnqueueExactlyOneRun(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            var firings: [(AgentTask, TaskFiring)] = []
            for _ in 0..<5 { firings.append(try await Self.dueTask(store, tenant)) }
            let batch = firings.map(\.1)
            let total = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 { group.addTask { try await store.tasks.apply(batch, now: Self.at(seconds: 65)) } }
                return try await group.reduce(0, +)
            }
            #expect(total == 5)
            for (task, _) in firings { #expect(try await Fixtures.runs(of: task, in: store).count == 1) }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aManualFireIsRecordedOnceByItsKey(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let task = try await Fixtures.createTask(in: store, tenant, at: Self.t0)
            let context = TaskContext(caller: "test", events: EventContext(), now: Self.t0, defaultTimezone: "UTC")
            let fire = try TaskDecisions.runNow(task, context: context)
            let record = ChangeRecord(events: [], audit: Fixtures.audit(tenant), runs: [fire.run])
            #expect(try await store.tasks.fire(fire, of: task, record: record))
            #expect(try await !store.tasks.fire(fire, of: task, record: record))
            #expect(try await Fixtures.runs(of: task, in: store).map(\.id) == [fire.run.id])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func theLeaseIsHeldByOneHolderUntilItExpiresOrIsReleased(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            func hold(_ holder: String, at seconds: Int64, for ttl: Int64 = 10) async throws -> Bool {
                try await store.tasks.holdLease(
                    "scheduler", holder: holder, until: Self.at(seconds: seconds + ttl), now: Self.at(seconds: seconds))
            }
            #expect(try await hold("a", at: 0))
            #expect(try await !hold("b", at: 5))
            #expect(try await hold("a", at: 5))  // renewed until 15
            #expect(try await !hold("b", at: 12))
            // Another lease name is another lease.
            #expect(
                try await store.tasks.holdLease(
                    "other", holder: "b", until: Self.at(seconds: 30), now: Self.at(seconds: 12)))
            #expect(try await hold("b", at: 15))  // a's expired
            #expect(try await !hold("a", at: 16))
            try await store.tasks.releaseLease("scheduler", holder: "a")  // not a's: nothing
            #expect(try await !hold("a", at: 17))
            try await store.tasks.releaseLease("scheduler", holder: "b")
            #expect(try await hold("a", at: 17))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func stepLogsRoundTripByAttemptAndPosition(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let (task, firing) = try await Self.dueTask(store, tenant)
            _ = try await store.tasks.apply([firing], now: Self.at(seconds: 65))
            let run = try #require(try await Fixtures.runs(of: task, in: store).first)
            func log(_ attempt: Int, _ position: Int, _ outcome: StepOutcome) -> StepLog {
                StepLog(
                    attempt: attempt, position: position, stepID: "s\(position)", uses: "log", outcome: outcome,
                    input: outcome == .skipped ? nil : ["message": "hi", "n": .double(1.5)],
                    output: outcome == .succeeded ? ["logged": "hi"] : nil,
                    error: outcome == .failed ? "step 's\(position)': boom" : nil, calls: position + 1,
                    startedAt: Self.at(seconds: Int64(attempt * 10 + position)), durationMicroseconds: 1234)
            }
            let second = [log(2, 0, .succeeded), log(2, 1, .skipped)]
            try await store.runs.recordSteps(tenant: tenant, run: run.id, attempt: 2, second)
            try await store.runs.recordSteps(tenant: tenant, run: run.id, attempt: 1, [log(1, 0, .succeeded)])
            // Recorded again, an attempt's logs replace the earlier ones.
            let first = [log(1, 0, .succeeded), log(1, 1, .failed)]
            try await store.runs.recordSteps(tenant: tenant, run: run.id, attempt: 1, first)
            #expect(try await store.runs.steps(tenant: tenant, run: run.id) == first + second)
            let other = try await Fixtures.createTenant(in: store).id
            #expect(try await store.runs.steps(tenant: other, run: run.id).isEmpty)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func completeOnlyMovesAnActiveTask(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let active = try await Fixtures.createTask(in: store, tenant, at: Self.t0)
            var paused = try await Fixtures.createTask(in: store, tenant, at: Self.t0)
            paused.status = .paused
            paused.version = 2
            _ = try await store.tasks.update(paused, expectedVersion: 1, from: .active, record: Fixtures.record(tenant))

            #expect(try await !store.tasks.complete(tenant: tenant, id: paused.id, now: Self.at(seconds: 5)))
            #expect(try await store.tasks.find(tenant: tenant, id: paused.id)?.status == .paused)
            let other = try await Fixtures.createTenant(in: store).id
            #expect(try await !store.tasks.complete(tenant: other, id: active.id, now: Self.at(seconds: 5)))

            #expect(try await store.tasks.complete(tenant: tenant, id: active.id, now: Self.at(seconds: 5)))
            let done = try #require(try await store.tasks.find(tenant: tenant, id: active.id))
            #expect(done.status == .completed && done.nextRunAt == nil && done.version == 2)
            #expect(try await !store.tasks.complete(tenant: tenant, id: active.id, now: Self.at(seconds: 6)))
            let changes = try await store.events.list(
                tenant: tenant,
                query: EventQuery(type: "task.status_changed", subject: "tasks/\(active.id.lowercasedString)"))
            #expect(changes.count == 1)
            #expect(changes.first?.data["from"] == "active" && changes.first?.data["to"] == "completed")
            // A completed task is not due any more.
            #expect(try await store.tasks.due(now: Self.at(seconds: 600), limit: 10).isEmpty)
        }
    }
}
