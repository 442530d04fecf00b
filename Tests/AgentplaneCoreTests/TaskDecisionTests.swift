import AgentplaneCore
import Foundation
import Testing

/// Task decisions without a database: the state machine, create defaults and validation, the scheduler's
/// fires with each misfire policy, snooze and run_now. Time is fixed; nothing sleeps.
@Suite struct TaskDecisionTests {
    /// A whole minute (1_800_000_000 s is divisible by 60), so cron times fall on it.
    static let now = Timestamp(microsecondsSinceEpoch: 1_800_000_000_000_000)
    static let tenant = TenantID(UUID())
    static let pipeline: [String: JSONValue] = [
        "pipeline": .array([["id": "a", "uses": "log", "with": ["message": "hi"]]])
    ]

    static func context(at time: Timestamp = now, instance: Instance? = nil) -> TaskContext {
        TaskContext(
            caller: "api_key:abc", events: EventContext(requestID: "r1"), now: time, defaultTimezone: "Europe/Chisinau",
            instance: instance)
    }

    static func fields(
        kind: String = "cron", expr: String? = "*/1 * * * *", _ change: (inout TaskFields) -> Void = { _ in }
    ) -> TaskFields {
        var fields = TaskFields(title: "Briefing", scheduleKind: kind, scheduleExpr: expr, payload: pipeline)
        change(&fields)
        return fields
    }

    static func task(
        kind: String = "cron", expr: String? = "*/1 * * * *", status: TaskStatus = .active,
        _ change: (inout TaskFields) -> Void = { _ in }
    ) throws -> AgentTask {
        var task = try TaskDecisions.create(fields(kind: kind, expr: expr, change), tenant: tenant, context: context())
            .0
        task.status = status
        return task
    }

    static func at(minutes: Double) -> Timestamp {
        Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch + Int64(minutes * 60_000_000))
    }

    /// The field errors of a refused decision (none when it was accepted).
    static func pointers(_ body: () throws -> Void) -> [String] {
        do {
            try body()
            return []
        } catch let error as AgentplaneError {
            return error.fieldErrors.map(\.pointer)
        } catch {
            return ["unexpected \(error)"]
        }
    }

    // MARK: - State machine

    static let legal: [(TaskStatus, TaskStatus)] = [
        (.active, .paused), (.active, .cancelled), (.active, .completed), (.paused, .active), (.paused, .cancelled),
    ]

    @Test(arguments: TaskStatus.allCases)
    func everyStepOutOfAStateIsLegalOnlyWhenTheMachineSaysSo(from: TaskStatus) throws {
        for to in TaskStatus.allCases {
            let isLegal = Self.legal.contains { $0 == (from, to) }
            do {
                #expect(try from.transition(to: to) == to)
                #expect(isLegal, "\(from) → \(to) was accepted")
            } catch {
                #expect(!isLegal, "\(from) → \(to) was refused")
                #expect(error.code == .illegalTransition)
                #expect(error.details == ["from": .string(from.rawValue), "to": .string(to.rawValue)])
                #expect(error.detail.contains(from.rawValue) && error.detail.contains(to.rawValue))
            }
        }
    }

    @Test func pauseResumeAndCancelChangeStatusVersionAndNameBothStatesInTheirEvent() throws {
        let task = try Self.task()
        let later = Self.at(minutes: 5.5)
        let paused = try TaskDecisions.transition(task, to: .paused, expectedVersion: nil, context: Self.context())
        #expect(paused.state.status == .paused && paused.state.version == 2 && paused.expectedVersion == 1)
        #expect(paused.state.nextRunAt == task.nextRunAt)
        #expect(paused.events.map(\.type) == ["task.status_changed"])
        #expect(paused.events[0].data["from"] == "active" && paused.events[0].data["to"] == "paused")
        // Resumed, it is scheduled from now: the fire times it slept through do not run.
        let resumed = try TaskDecisions.transition(
            paused.state, to: .active, expectedVersion: 2, context: Self.context(at: later))
        #expect(resumed.state.status == .active && resumed.state.nextRunAt == Self.at(minutes: 6))
        let cancelled = try TaskDecisions.transition(
            resumed.state, to: .cancelled, expectedVersion: nil, context: Self.context())
        #expect(cancelled.state.status == .cancelled && cancelled.state.nextRunAt == nil)
        let again = #expect(throws: AgentplaneError.self) {
            try TaskDecisions.transition(cancelled.state, to: .active, expectedVersion: nil, context: Self.context())
        }
        #expect(again?.code == .illegalTransition && again?.details == ["from": "cancelled", "to": "active"])
    }

    @Test(arguments: [TaskStatus.cancelled, .completed])
    func aFinishedTaskCannotBeChangedSnoozedOrRun(status: TaskStatus) throws {
        let task = try Self.task(status: status)
        let update = #expect(throws: AgentplaneError.self) {
            try TaskDecisions.update(TaskFields(title: "x"), current: task, context: Self.context())
        }
        #expect(update?.code == .illegalTransition)
        let snooze = #expect(throws: AgentplaneError.self) {
            try TaskDecisions.snooze(task, seconds: 60, expectedVersion: nil, context: Self.context())
        }
        #expect(snooze?.code == .illegalTransition)
        let run = #expect(throws: AgentplaneError.self) { try TaskDecisions.runNow(task, context: Self.context()) }
        #expect(run?.code == .illegalTransition && run?.details["from"] == .string(status.rawValue))
    }

    // MARK: - Create

    @Test func createFillsEveryDefaultAndTheFirstFireTime() throws {
        let (task, events) = try TaskDecisions.create(Self.fields(), tenant: Self.tenant, context: Self.context())
        #expect(task.status == .active && task.version == 1)
        #expect(task.priority == 5 && task.maxRetries == 3 && task.dedupeWindowSeconds == 0)
        #expect(task.backoffStrategy == .exponentialJitter && task.misfirePolicy == .runOnce)
        #expect(task.timezone == "Europe/Chisinau")
        #expect(task.createdBy == "api_key:abc" && task.calledBy == "api_key:abc")
        #expect(task.description == "" && task.dedupeKey == nil && task.concurrencyKey == nil && task.instanceID == nil)
        #expect(task.nextRunAt == Self.at(minutes: 1))
        #expect(task.createdAt == Self.now && task.tenantID == Self.tenant)
        #expect(events.map(\.type) == ["task.created"])
        #expect(events[0].data["task_id"] == .string(task.id.lowercasedString))
    }

    @Test func createKeepsWhatTheClientSends() throws {
        let agent = "00000000-0000-0000-0000-000000000001"
        let (task, _) = try TaskDecisions.create(
            Self.fields {
                $0.createdBy = agent
                $0.priority = 1
                $0.maxRetries = 0
                $0.backoffStrategy = "linear"
                $0.misfirePolicy = "run_all"
                $0.timezone = "UTC"
                $0.dedupeKey = "d"
                $0.dedupeWindowSeconds = 60
                $0.concurrencyKey = "c"
            }, tenant: Self.tenant, context: Self.context())
        #expect(task.createdBy == agent && task.calledBy == "api_key:abc")
        #expect(task.priority == 1 && task.maxRetries == 0 && task.backoffStrategy == .linear)
        #expect(task.misfirePolicy == .runAll && task.timezone == "UTC")
        #expect(task.dedupeKey == "d" && task.dedupeWindowSeconds == 60 && task.concurrencyKey == "c")
        // Its runs carry the task's settings.
        let fire = try TaskDecisions.runNow(task, context: Self.context())
        #expect(fire.run.priority == 1 && fire.run.maxAttempts == 1 && fire.run.taskID == task.id)
        #expect(fire.run.kind == "task.run" && fire.key.hasPrefix("manual:"))
    }

    static let invalid: [(String, @Sendable (inout TaskFields) -> Void)] = [
        ("/title", { $0.title = "" }),
        ("/title", { $0.title = String(repeating: "t", count: 201) }),
        ("/schedule_expr", { $0.scheduleExpr = "* * 32 * *" }),
        ("/schedule_expr", { $0.scheduleExpr = "* * * * * * *" }),
        ("/schedule_kind", { $0.scheduleKind = "weekly" }),
        ("/timezone", { $0.timezone = "Mars/Base" }),
        ("/priority", { $0.priority = 0 }),
        ("/priority", { $0.priority = 10 }),
        ("/max_retries", { $0.maxRetries = -1 }),
        ("/max_retries", { $0.maxRetries = 101 }),
        ("/backoff_strategy", { $0.backoffStrategy = "random" }),
        ("/misfire_policy", { $0.misfirePolicy = "sometimes" }),
        ("/instance_id", { $0.instanceID = "not-a-uuid" }),
        ("/instance_id", { $0.instanceID = UUID().uuidString }),
    ]

    @Test(arguments: 0..<invalid.count)
    func createRefusesABadFieldAtItsPointer(index: Int) {
        let (pointer, change) = Self.invalid[index]
        let found = Self.pointers {
            _ = try TaskDecisions.create(Self.fields(change), tenant: Self.tenant, context: Self.context())
        }
        #expect(found == [pointer])
    }

    @Test func aScheduleErrorNamesTheOffsetAndAllErrorsComeAtOnce() {
        do {
            _ = try TaskDecisions.create(
                Self.fields {
                    $0.scheduleExpr = "0 8 32 * *"
                    $0.priority = 0
                    $0.title = nil
                }, tenant: Self.tenant, context: Self.context())
            Issue.record("expected a refusal")
        } catch {
            #expect(error.code == .validationFailed)
            #expect(Set(error.fieldErrors.map(\.pointer)) == ["/title", "/priority", "/schedule_expr"])
            let message = error.fieldErrors.first { $0.pointer == "/schedule_expr" }?.message ?? ""
            #expect(message.contains("offset 4"), "\(message)")
        }
    }

    @Test func aOnceInstantLongPastIsRefusedAndAnEventTaskHasNoFireTime() throws {
        let past = Self.now.adding(seconds: -3600).rfc3339
        #expect(Self.pointers { _ = try Self.task(kind: "once", expr: past) } == ["/schedule_expr"])
        let event = try Self.task(kind: "event", expr: "order.*")
        #expect(event.nextRunAt == nil && !event.isTimed)
    }

    @Test func anUpdateKeepsTheNextFireTimeUnlessTheScheduleChanges() throws {
        let task = try Self.task()
        let later = Self.context(at: Self.at(minutes: 30.5))
        let renamed = try TaskDecisions.update(
            TaskFields(title: "New", misfirePolicy: "skip"), current: task, context: later)
        #expect(renamed.state.nextRunAt == task.nextRunAt && renamed.state.scheduleStart == task.scheduleStart)
        #expect(renamed.state.misfirePolicy == .skip && renamed.state.version == 2 && renamed.expectedVersion == 1)
        #expect(renamed.events.map(\.type) == ["task.updated"])
        // The same expression sent again is no change either.
        let same = try TaskDecisions.update(TaskFields(scheduleExpr: "*/1 * * * *"), current: task, context: later)
        #expect(same.state.nextRunAt == task.nextRunAt)
        let moved = try TaskDecisions.update(
            TaskFields(scheduleExpr: "0 * * * *", timezone: "Asia/Kolkata"), current: task, context: later)
        // Kolkata is UTC+5:30: its whole hours fall on UTC half hours.
        #expect(moved.state.nextRunAt == Self.at(minutes: 90))
        #expect(moved.state.scheduleStart == Self.at(minutes: 30))
        let refused = Self.pointers {
            _ = try TaskDecisions.update(TaskFields(timezone: "Mars/Base"), current: task, context: later)
        }
        #expect(refused == ["/timezone"])
    }

    // MARK: - Fires and misfires

    /// A `*/1` cron task whose next fire time was 10 minutes before `now + 30 s` (the scheduler was down).
    static func missed(_ policy: MisfirePolicy) throws -> (AgentTask, TaskFiring) {
        var task = try Self.task { $0.misfirePolicy = policy.rawValue }
        task.nextRunAt = Self.now
        let now = Self.at(minutes: 10.5)
        return (task, TaskDecisions.due(task, now: now))
    }

    @Test func runOnceFiresTheNewestMissedTimeOnceThenKeepsTheSchedule() throws {
        let (_, firing) = try Self.missed(.runOnce)
        #expect(firing.fires.map(\.scheduledAt) == [Self.at(minutes: 10)])
        #expect(firing.fires.map(\.key) == ["at:\(Self.at(minutes: 10).microsecondsSinceEpoch)"])
        #expect(firing.nextRunAt == Self.at(minutes: 11))
        #expect(firing.skipped == 10)
    }

    @Test func skipFiresNothingForMissedTimes() throws {
        let (_, firing) = try Self.missed(.skip)
        #expect(firing.fires.isEmpty)
        #expect(firing.nextRunAt == Self.at(minutes: 11))
        #expect(firing.skipped == 11)
    }

    @Test func runAllFiresEveryMissedTimeOldestFirst() throws {
        let (_, firing) = try Self.missed(.runAll)
        #expect(firing.fires.map(\.scheduledAt) == (0...10).map { Self.at(minutes: Double($0)) })
        #expect(Set(firing.fires.map(\.key)).count == 11)
        #expect(firing.nextRunAt == Self.at(minutes: 11) && firing.skipped == 0)
    }

    @Test func runAllIsCappedAtTheMaximumCatchUp() throws {
        var task = try Self.task { $0.misfirePolicy = "run_all" }
        task.nextRunAt = Self.now
        let firing = TaskDecisions.due(task, now: Self.at(minutes: 1000))
        #expect(firing.fires.count == TaskTiming.maximumCatchUp)
        #expect(firing.fires.first?.scheduledAt == Self.now)
        #expect(firing.fires.map(\.scheduledAt) == firing.fires.map(\.scheduledAt).sorted())
        #expect(firing.nextRunAt == Self.at(minutes: 1001))
    }

    @Test(arguments: MisfirePolicy.allCases)
    func aLateFireWithinTheGraceAlwaysFires(policy: MisfirePolicy) throws {
        var task = try Self.task { $0.misfirePolicy = policy.rawValue }
        task.nextRunAt = Self.now
        let now = Self.now.adding(seconds: TaskTiming.misfireGraceSeconds - 1)
        let firing = TaskDecisions.due(task, now: now)
        #expect(firing.fires.map(\.scheduledAt) == [Self.now], "\(policy)")
        #expect(firing.nextRunAt == Self.at(minutes: 1) && firing.skipped == 0)
        // Not yet due: nothing.
        let early = TaskDecisions.due(task, now: Self.now.adding(seconds: -1))
        #expect(early.fires.isEmpty && early.nextRunAt == Self.now)
    }

    @Test func aOnceTaskFiresOnceAndHasNoNextFireTime() throws {
        let instant = Self.at(minutes: 3)
        let task = try Self.task(kind: "once", expr: instant.rfc3339)
        #expect(task.nextRunAt == instant)
        let firing = TaskDecisions.due(task, now: instant.adding(seconds: 1))
        #expect(firing.fires.map(\.scheduledAt) == [instant])
        #expect(firing.nextRunAt == nil)
    }

    @Test func pausedTasksAndEventTasksDoNotFireByTime() throws {
        var paused = try Self.task(status: .paused)
        paused.nextRunAt = Self.now
        #expect(TaskDecisions.due(paused, now: Self.at(minutes: 5)).fires.isEmpty)
        let event = try Self.task(kind: "event", expr: "order.*")
        #expect(TaskDecisions.due(event, now: Self.at(minutes: 5)).fires.isEmpty)
    }

    // MARK: - Snooze and run_now

    @Test func snoozeMovesTheNextFireTimeLater() throws {
        let task = try Self.task()
        let snoozed = try TaskDecisions.snooze(task, seconds: 600, expectedVersion: nil, context: Self.context())
        #expect(snoozed.state.nextRunAt == Self.at(minutes: 11))
        #expect(snoozed.state.version == 2 && snoozed.events.map(\.type) == ["task.updated"])
        // A next fire time in the past counts from now.
        var overdue = task
        overdue.nextRunAt = Self.at(minutes: -5)
        let fromNow = try TaskDecisions.snooze(overdue, seconds: 60, expectedVersion: nil, context: Self.context())
        #expect(fromNow.state.nextRunAt == Self.at(minutes: 1))
    }

    @Test(arguments: [0, -1, TaskDecisions.maximumSnoozeSeconds + 1])
    func snoozeRefusesSecondsOutOfRange(seconds: Int) throws {
        let task = try Self.task()
        let found = Self.pointers {
            _ = try TaskDecisions.snooze(task, seconds: seconds, expectedVersion: nil, context: Self.context())
        }
        #expect(found == ["/seconds"])
    }

    @Test func snoozeRefusesAnEventTask() throws {
        let task = try Self.task(kind: "event", expr: "order.*")
        let found = Self.pointers {
            _ = try TaskDecisions.snooze(task, seconds: 60, expectedVersion: nil, context: Self.context())
        }
        #expect(found == ["/seconds"])
    }

    @Test func runNowFiresActiveAndPausedTasksWithAKeyOfItsOwn() throws {
        for status in [TaskStatus.active, .paused] {
            let task = try Self.task(status: status)
            let first = try TaskDecisions.runNow(task, context: Self.context())
            let second = try TaskDecisions.runNow(task, context: Self.context())
            #expect(first.key != second.key && first.run.id != second.run.id)
            #expect(first.key == "manual:\(first.run.id.lowercasedString)")
            #expect(first.run.arguments["manual"] == .bool(true) && first.scheduledAt == Self.now)
        }
    }
}

/// A `once` task resumed after its instant: it runs at once, or completes when its policy skips misfires.
@Suite struct OnceTaskResumeTests {
    @Test(arguments: [(MisfirePolicy.runOnce, TaskStatus.active), (.skip, .completed), (.runAll, .active)])
    func aOnceTaskResumedAfterItsInstant(policy: MisfirePolicy, expected: TaskStatus) throws {
        let created = Timestamp(rfc3339: "2026-03-01T00:00:00Z")!
        let fields = TaskFields(
            title: "once", scheduleKind: "once", scheduleExpr: "2026-03-01T01:00:00Z", timezone: "UTC",
            payload: ["pipeline": .array([["id": "a", "uses": "log"]])], misfirePolicy: policy.rawValue)
        let context = TaskContext(caller: "c", events: EventContext(), now: created, defaultTimezone: "UTC")
        var task = try TaskDecisions.create(fields, tenant: TenantID(UUIDv7.make()), context: context).0
        task.status = .paused
        let later = Timestamp(rfc3339: "2026-03-02T00:00:00Z")!
        let resumed = try TaskDecisions.transition(
            task, to: .active, expectedVersion: nil,
            context: TaskContext(caller: "c", events: EventContext(), now: later, defaultTimezone: "UTC")
        ).state
        #expect(resumed.status == expected)
        #expect(resumed.nextRunAt == (expected == .active ? later : nil))
    }
}
