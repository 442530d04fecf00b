import Foundation

/// What the scheduler does with one due task: the fires to enqueue and where the task goes next.
public struct TaskFiring: Sendable, Hashable {
    /// The task as the scheduler read it (its `next_run_at` is the write's condition).
    public var task: AgentTask
    /// The fires, oldest first (each at most once per task, by its key).
    public var fires: [TaskFire]
    /// The next fire time after these (nil: none).
    public var nextRunAt: Timestamp?
    /// The fire times left out by the misfire policy.
    public var skipped: Int

    /// Creates a firing.
    public init(task: AgentTask, fires: [TaskFire], nextRunAt: Timestamp?, skipped: Int) {
        self.task = task
        self.fires = fires
        self.nextRunAt = nextRunAt
        self.skipped = skipped
    }
}

extension TaskDecisions {
    /// The fires of a task whose `next_run_at` has come. Fire times up to `now` are gathered; when the first is
    /// within the misfire grace they all fire, else (the scheduler was down) the task's policy picks from them:
    /// the newest (`run_once`), none (`skip`) or all, oldest first and capped (`run_all`). The next fire time is
    /// the schedule's first after `now`. A `once` task has none after its fire.
    public static func due(_ task: AgentTask, now: Timestamp) -> TaskFiring {
        guard task.status == .active, let due = task.nextRunAt, due <= now else {
            return TaskFiring(task: task, fires: [], nextRunAt: task.nextRunAt, skipped: 0)
        }
        guard let schedule = try? TaskSchedule(task) else {
            // A schedule that no longer parses (a newer, stricter parser) stops; it never fires wrongly.
            return TaskFiring(task: task, fires: [], nextRunAt: nil, skipped: 0)
        }
        switch schedule {
        case .event:
            return TaskFiring(task: task, fires: [], nextRunAt: nil, skipped: 0)
        case .condition(let every):
            // A check: its run evaluates the condition and starts the pipeline when it turned true.
            let fire = Self.fire(
                task, key: "check:\(due.microsecondsSinceEpoch)", scheduledAt: due, now: now,
                trigger: ["check": .bool(true)])
            return TaskFiring(
                task: task, fires: [fire], nextRunAt: Self.nextCheck(after: due, every: every, now: now), skipped: 0)
        case .timed(let timed):
            var times = [due]
            times += timed.nextFireTimes(after: due, count: TaskTiming.maximumCatchUp + 1).filter { $0 <= now }
            // The policy applies to the task as a whole (as Quartz's misfire instructions do): when its due
            // time is past the grace, every time gathered is a missed one, including those inside the grace
            // (counting them as on time gave `run_once` two or three runs and `skip` one after downtime).
            let chosen: [Timestamp]
            if due >= now.adding(seconds: -TaskTiming.misfireGraceSeconds) {
                chosen = times
            } else {
                switch task.misfirePolicy {
                case .runOnce: chosen = times.last.map { [$0] } ?? []
                case .skip: chosen = []
                case .runAll: chosen = Array(times.prefix(TaskTiming.maximumCatchUp))
                }
            }
            let fires = chosen.map { time in
                Self.fire(task, key: "at:\(time.microsecondsSinceEpoch)", scheduledAt: time, now: now)
            }
            let next = timed.kind == .once ? nil : timed.next(after: now)
            return TaskFiring(task: task, fires: fires, nextRunAt: next, skipped: times.count - chosen.count)
        }
    }

    /// An event task's fire for one event of its tenant (`event:<id>`: at most once per task and event).
    public static func fire(_ task: AgentTask, for event: Event, now: Timestamp) -> TaskFire {
        fire(
            task, key: "event:\(event.id)", scheduledAt: event.time, now: now,
            trigger: ["event": eventJSON(event)])
    }

    /// The event as a pipeline sees it (`${event.type}`, `${event.data.…}`).
    public static func eventJSON(_ event: Event) -> JSONValue {
        [
            "id": .string(event.id), "type": .string(event.type), "source": .string(event.source),
            "subject": event.subject.map(JSONValue.string) ?? .null, "time": .string(event.time.rfc3339),
            "data": event.data,
        ]
    }

    /// A condition's next check: one interval after the last, or one interval from now when that has passed
    /// (after downtime a check runs once, not once per missed interval).
    static func nextCheck(after due: Timestamp, every: Int, now: Timestamp) -> Timestamp {
        let next = due.adding(seconds: Int64(every))
        return next > now ? next : now.adding(seconds: Int64(every))
    }
}
