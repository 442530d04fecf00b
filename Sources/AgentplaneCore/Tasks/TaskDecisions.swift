import Foundation

/// The rules of tasks: validation and defaults, the state machine, and what each operation changes.
public enum TaskDecisions {
    /// The most retries a task may ask for.
    public static let maximumRetries = 100
    /// The longest snooze (one year).
    public static let maximumSnoozeSeconds = 31_536_000

    /// A new `active` task with its first fire time, and `task.created`.
    public static func create(_ fields: TaskFields, tenant: TenantID, context: TaskContext) throws(AgentplaneError)
        -> (AgentTask, [NewEvent])
    {
        var errors: [FieldError] = []
        if fields.title == nil { errors.append(FieldError(pointer: "/title", message: "is required")) }
        if fields.scheduleKind == nil { errors.append(FieldError(pointer: "/schedule_kind", message: "is required")) }
        if fields.payload == nil { errors.append(FieldError(pointer: "/payload", message: "is required")) }
        let start = minute(context.now)
        var task = AgentTask(
            id: UUIDv7.make(), tenantID: tenant, title: fields.title ?? "", description: fields.description ?? "",
            scheduleKind: fields.scheduleKind ?? "", scheduleExpr: fields.scheduleExpr,
            timezone: fields.timezone ?? context.defaultTimezone, scheduleStart: start, payload: fields.payload ?? [:],
            priority: fields.priority ?? NewRun.defaultPriority, dedupeKey: fields.dedupeKey,
            dedupeWindowSeconds: fields.dedupeWindowSeconds ?? 0, maxRetries: fields.maxRetries ?? 3,
            backoffStrategy: .exponentialJitter, concurrencyKey: fields.concurrencyKey,
            createdBy: fields.createdBy ?? context.caller, calledBy: context.caller, instanceID: nil,
            misfirePolicy: .runOnce, status: .active, nextRunAt: nil, lastRunAt: nil, version: 1,
            createdAt: context.now, updatedAt: context.now)
        errors += apply(fields, to: &task, context: context, scheduleChanged: true)
        guard errors.isEmpty else { throw .validation(errors) }
        return (task, [Events.task(.taskCreated, task, context: context.events, at: context.now)])
    }

    /// The task with `fields` applied (`PUT`), and `task.updated`. A changed schedule or time zone starts the
    /// schedule again from now; an unchanged one keeps its next fire time.
    public static func update(_ fields: TaskFields, current: AgentTask, context: TaskContext)
        throws(AgentplaneError) -> Change<AgentTask>
    {
        guard current.status == .active || current.status == .paused else {
            throw AgentplaneError(
                .illegalTransition, "A \(current.status.rawValue) task cannot be changed.",
                details: ["from": .string(current.status.rawValue), "to": .string(current.status.rawValue)])
        }
        var next = current
        let scheduleChanged =
            (fields.scheduleKind.map { $0 != current.scheduleKind } ?? false)
            || (fields.scheduleExpr.map { $0 != current.scheduleExpr } ?? false)
            || (fields.timezone.map { $0 != current.timezone } ?? false)
        if scheduleChanged { next.scheduleStart = minute(context.now) }
        let errors = apply(fields, to: &next, context: context, scheduleChanged: scheduleChanged)
        guard errors.isEmpty else { throw .validation(errors) }
        next.version = current.version + 1
        next.updatedAt = context.now
        return Change(
            state: next, expectedVersion: fields.expectedVersion ?? current.version,
            events: [Events.task(.taskUpdated, next, context: context.events, at: context.now)])
    }

    /// `pause`, `resume` or `cancel`: the new status, and `task.status_changed` naming both states. A resumed
    /// task is scheduled from now (fire times while it was paused do not run); a cancelled one has none.
    public static func transition(
        _ current: AgentTask, to status: TaskStatus, expectedVersion: Int64?, context: TaskContext
    ) throws(AgentplaneError) -> Change<AgentTask> {
        var next = current
        next.status = try current.status.transition(to: status)
        switch status {
        case .active:
            next.nextRunAt = try? firstFire(of: next, now: context.now)
            // A `once` task resumed after its instant: it runs now, unless its misfire policy skips missed
            // fires, which leaves it nothing to do (completed).
            if next.scheduleKind == TaskScheduleKind.once.rawValue, next.nextRunAt == nil {
                if next.misfirePolicy == .skip {
                    next.status = .completed
                } else {
                    next.nextRunAt = context.now
                }
            }
        case .cancelled, .completed:
            next.nextRunAt = nil
        case .paused:
            break
        }
        next.version = current.version + 1
        next.updatedAt = context.now
        var changed = Events.task(.taskStatusChanged, next, context: context.events, at: context.now)
        changed.set(from: current.status.rawValue, to: next.status.rawValue)
        return Change(state: next, expectedVersion: expectedVersion ?? current.version, events: [changed])
    }

    /// `snooze`: the next fire moves `seconds` later (from now when none is due in the future); the fires it
    /// passes over do not run. Only for tasks that fire by time.
    public static func snooze(_ current: AgentTask, seconds: Int, expectedVersion: Int64?, context: TaskContext)
        throws(AgentplaneError) -> Change<AgentTask>
    {
        guard (1...maximumSnoozeSeconds).contains(seconds) else {
            throw .validation([
                FieldError(pointer: "/seconds", message: "must be between 1 and \(maximumSnoozeSeconds)")
            ])
        }
        guard current.status == .active || current.status == .paused else {
            throw AgentplaneError(
                .illegalTransition, "A \(current.status.rawValue) task cannot be snoozed.",
                details: ["from": .string(current.status.rawValue), "to": .string(current.status.rawValue)])
        }
        guard current.isTimed else {
            throw .validation([
                FieldError(pointer: "/seconds", message: "an event task has no next fire time to delay")
            ])
        }
        var next = current
        let base = max(current.nextRunAt ?? context.now, context.now)
        next.nextRunAt = base.adding(seconds: Int64(seconds))
        next.version = current.version + 1
        next.updatedAt = context.now
        return Change(
            state: next, expectedVersion: expectedVersion ?? current.version,
            events: [Events.task(.taskUpdated, next, context: context.events, at: context.now)])
    }

    /// `run_now`: a fire of an active or paused task now, outside its schedule (its next fire time stays).
    public static func runNow(_ task: AgentTask, context: TaskContext) throws(AgentplaneError) -> TaskFire {
        guard task.status == .active || task.status == .paused else {
            throw AgentplaneError(
                .illegalTransition, "A \(task.status.rawValue) task cannot run.",
                details: ["from": .string(task.status.rawValue), "to": .string("running")])
        }
        let runID = UUIDv7.make()
        return fire(
            task, key: "manual:\(runID.lowercasedString)", scheduledAt: context.now, runID: runID, now: context.now,
            trigger: ["manual": .bool(true)])
    }

    /// The run a fire enqueues: the task's priority, retries, backoff, dedupe and concurrency.
    public static func fire(
        _ task: AgentTask, key: String, scheduledAt: Timestamp, runID: UUID = UUIDv7.make(), now: Timestamp,
        trigger: [String: JSONValue] = [:]
    ) -> TaskFire {
        var arguments = trigger
        arguments["task_id"] = .string(task.id.lowercasedString)
        arguments["fire_key"] = .string(key)
        arguments["scheduled_at"] = .string(scheduledAt.rfc3339)
        let run = NewRun(
            id: runID, kind: AgentTask.runKind, tenantID: task.tenantID, arguments: arguments,
            priority: task.priority, runAt: now, maxAttempts: task.maxRetries + 1,
            backoff: Backoff(strategy: task.backoffStrategy, baseSeconds: 1, capSeconds: 3600),
            dedupeKey: task.dedupeKey, dedupeWindowSeconds: task.dedupeWindowSeconds,
            concurrencyKey: task.concurrencyKey, instanceID: task.instanceID, taskID: task.id, createdAt: now)
        return TaskFire(key: key, scheduledAt: scheduledAt, run: run)
    }

    /// The first fire time of a task's schedule from now (nil for event tasks, and for a `once` task whose
    /// instant has passed).
    public static func firstFire(of task: AgentTask, now: Timestamp) throws(ScheduleError) -> Timestamp? {
        switch try TaskSchedule(task) {
        case .timed(let schedule):
            // A `once` instant up to the misfire grace in the past still fires (clocks differ a little).
            if schedule.kind == .once {
                return schedule.next(after: now.adding(seconds: -TaskTiming.misfireGraceSeconds))
            }
            return schedule.next(after: now)
        case .event: return nil
        case .condition(let everySeconds): return now.adding(seconds: Int64(everySeconds))
        }
    }

    /// The instant truncated to its minute (a schedule's start).
    public static func minute(_ time: Timestamp) -> Timestamp {
        let micros = time.microsecondsSinceEpoch
        return Timestamp(microsecondsSinceEpoch: micros - ((micros % 60_000_000) + 60_000_000) % 60_000_000)
    }
}

extension Timestamp {
    /// This instant plus whole seconds.
    public func adding(seconds: Int64) -> Timestamp {
        Timestamp(microsecondsSinceEpoch: microsecondsSinceEpoch + seconds * 1_000_000)
    }
}

extension NewEvent {
    /// Adds `from` and `to` to an object payload (a status change).
    public mutating func set(from: String, to: String) {
        guard case .object(var object) = data else { return }
        object["from"] = .string(from)
        object["to"] = .string(to)
        data = .object(object)
    }
}
