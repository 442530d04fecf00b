import Foundation

/// A task's lifecycle (DESIGN §1): `active ⇄ paused`, `active | paused → cancelled`, and a `once` task
/// `active → completed` after its run.
public enum TaskStatus: String, Sendable, CaseIterable, Codable {
    case active
    case paused
    case cancelled
    case completed

    /// The states reachable from this one in one step.
    public var successors: Set<TaskStatus> {
        switch self {
        case .active: [.paused, .cancelled, .completed]
        case .paused: [.active, .cancelled]
        case .cancelled, .completed: []
        }
    }

    /// `next`, or the 409 error naming both states.
    public func transition(to next: TaskStatus) throws(AgentplaneError) -> TaskStatus {
        guard successors.contains(next) else {
            throw AgentplaneError(
                .illegalTransition,
                "A task cannot go from \(rawValue) to \(next.rawValue).",
                details: ["from": .string(rawValue), "to": .string(next.rawValue)]
            )
        }
        return next
    }
}

/// What the scheduler does with fire times that passed while no scheduler ran (downtime): it applies when
/// the task's due fire time is older than `TaskTiming.misfireGraceSeconds` when the scheduler gets to it,
/// and then covers every fire time up to now.
public enum MisfirePolicy: String, Sendable, CaseIterable, Codable {
    /// One run for all the missed fire times (at the newest one), then on schedule again.
    case runOnce = "run_once"
    /// No run for missed fire times; on schedule again from now.
    case skip
    /// One run per missed fire time, at most `TaskTiming.maximumCatchUp`, oldest first.
    case runAll = "run_all"
}

/// The scheduler's fixed timings.
public enum TaskTiming {
    /// A fire time this late is a misfire (handled by the task's policy) rather than a late fire.
    public static let misfireGraceSeconds: Int64 = 60
    /// The most missed fire times `run_all` catches up on.
    public static let maximumCatchUp = 100
}

/// A scheduled or triggered unit of agent work whose payload is a pipeline (seed 004's task).
///
/// Named `AgentTask` so it never shadows Swift's `Task`.
public struct AgentTask: Sendable, Hashable, Identifiable {
    /// Id (UUIDv7).
    public var id: UUID
    /// Owner.
    public var tenantID: TenantID
    /// Title (1–200 characters).
    public var title: String
    /// Free text (up to 10,000 characters).
    public var description: String
    /// `cron | rrule | once | event | condition`.
    public var scheduleKind: String
    /// The schedule's expression (nil only where the kind needs none).
    public var scheduleExpr: String?
    /// IANA time zone the schedule is read in.
    public var timezone: String
    /// The schedule's start (an RRULE's DTSTART): the minute the schedule was last set.
    public var scheduleStart: Timestamp
    /// The payload; `pipeline` is the list of steps.
    public var payload: [String: JSONValue]
    /// 1 (highest) … 9 for its runs.
    public var priority: Int
    /// Its runs' dedupe key.
    public var dedupeKey: String?
    /// How long the dedupe key holds.
    public var dedupeWindowSeconds: Int
    /// Retries after a failed attempt (attempts = retries + 1).
    public var maxRetries: Int
    /// Its runs' backoff.
    public var backoffStrategy: BackoffStrategy
    /// At most one run of this key at once, fleet-wide.
    public var concurrencyKey: String?
    /// Who the client says created it (seed 004 sends the creating agent's id); kept as given.
    public var createdBy: String
    /// The principal that really called (`created_by` defaults to it).
    public var calledBy: String
    /// The instance whose configuration and knowledge base the pipeline sees.
    public var instanceID: UUID?
    /// Missed fire times after downtime.
    public var misfirePolicy: MisfirePolicy
    /// Where it is.
    public var status: TaskStatus
    /// The next fire time (nil: none scheduled).
    public var nextRunAt: Timestamp?
    /// When it last fired.
    public var lastRunAt: Timestamp?
    /// A condition task's last answer (it fires when this turns true).
    public var conditionState: Bool?
    /// Optimistic concurrency (`ETag`).
    public var version: Int64
    /// Created.
    public var createdAt: Timestamp
    /// Last changed by a client.
    public var updatedAt: Timestamp

    /// Creates a task value.
    public init(
        id: UUID, tenantID: TenantID, title: String, description: String, scheduleKind: String,
        scheduleExpr: String?, timezone: String, scheduleStart: Timestamp, payload: [String: JSONValue], priority: Int,
        dedupeKey: String?,
        dedupeWindowSeconds: Int, maxRetries: Int, backoffStrategy: BackoffStrategy, concurrencyKey: String?,
        createdBy: String, calledBy: String, instanceID: UUID?, misfirePolicy: MisfirePolicy, status: TaskStatus,
        nextRunAt: Timestamp?, lastRunAt: Timestamp?, conditionState: Bool? = nil, version: Int64,
        createdAt: Timestamp, updatedAt: Timestamp
    ) {
        self.id = id
        self.tenantID = tenantID
        self.title = title
        self.description = description
        self.scheduleKind = scheduleKind
        self.scheduleExpr = scheduleExpr
        self.timezone = timezone
        self.scheduleStart = scheduleStart
        self.payload = payload
        self.priority = priority
        self.dedupeKey = dedupeKey
        self.dedupeWindowSeconds = dedupeWindowSeconds
        self.maxRetries = maxRetries
        self.backoffStrategy = backoffStrategy
        self.concurrencyKey = concurrencyKey
        self.createdBy = createdBy
        self.calledBy = calledBy
        self.instanceID = instanceID
        self.misfirePolicy = misfirePolicy
        self.status = status
        self.nextRunAt = nextRunAt
        self.lastRunAt = lastRunAt
        self.conditionState = conditionState
        self.version = version
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Whether the scheduler fires it by time (cron, rrule, once, and condition checks).
    public var isTimed: Bool { scheduleKind != "event" }

    /// The run kind of a task's pipeline run.
    public static let runKind = "task.run"
}

/// One fire of a task: the run it enqueues and the key that makes it happen at most once.
public struct TaskFire: Sendable, Hashable {
    /// What makes the fire unique per task: `at:<microseconds>` for a scheduled time, `event:<id>` for an
    /// event, `manual:<run id>` for run_now.
    public var key: String
    /// The scheduled time (or the event's time, or the request's).
    public var scheduledAt: Timestamp
    /// The run to enqueue.
    public var run: NewRun

    /// Creates a fire.
    public init(key: String, scheduledAt: Timestamp, run: NewRun) {
        self.key = key
        self.scheduledAt = scheduledAt
        self.run = run
    }
}
