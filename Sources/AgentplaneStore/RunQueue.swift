import AgentplaneCore
import Foundation

/// Which runs a list shows, newest first.
public struct RunQuery: Sendable, Hashable {
    /// Only this kind.
    public var kind: String?
    /// Only in this state.
    public var status: RunStatus?
    /// Only about this instance.
    public var instanceID: UUID?
    /// Only fires of this task.
    public var taskID: UUID?
    /// Created at or after.
    public var createdFrom: Timestamp?
    /// Created before.
    public var createdBefore: Timestamp?
    /// Ids below this one (the cursor: the last id of the previous page).
    public var before: UUID?
    /// Page size.
    public var limit: Int

    /// Creates a query.
    public init(
        kind: String? = nil, status: RunStatus? = nil, instanceID: UUID? = nil, taskID: UUID? = nil,
        createdFrom: Timestamp? = nil, createdBefore: Timestamp? = nil, before: UUID? = nil, limit: Int = 50
    ) {
        self.taskID = taskID
        self.kind = kind
        self.status = status
        self.instanceID = instanceID
        self.createdFrom = createdFrom
        self.createdBefore = createdBefore
        self.before = before
        self.limit = limit
    }
}

/// What a claim asks for.
public struct ClaimRequest: Sendable, Hashable {
    /// The claiming worker (recorded on the run and its attempt).
    public var workerID: String
    /// Only these kinds (the worker's registered handlers); nil: any.
    public var kinds: Set<String>?
    /// At most this many runs.
    public var limit: Int
    /// How long the lease holds without a heartbeat (microseconds).
    public var leaseMicroseconds: Int64
    /// The claim's time (run-at and leases are compared with it).
    public var now: Timestamp

    /// Creates a claim request.
    public init(workerID: String, kinds: Set<String>?, limit: Int, leaseMicroseconds: Int64, now: Timestamp) {
        self.workerID = workerID
        self.kinds = kinds
        self.limit = limit
        self.leaseMicroseconds = leaseMicroseconds
        self.now = now
    }
}

/// The durable job queue (DESIGN §5). Runs are also enqueued by any change, in its own transaction,
/// through `ChangeRecord.runs`.
///
/// Claims honour run-at, priority (1 first), then interleave tenants within a priority (fair share),
/// and never start more runs of a concurrency key than its limit, fleet-wide. Every operation by a
/// worker applies only to runs that worker still holds (`running`, its id): a worker whose lease
/// expired and whose run was claimed again changes nothing.
public protocol RunQueue: Sendable {
    /// Enqueues runs in one transaction, each with its `run.queued` event. A run whose dedupe key is
    /// held by a run enqueued inside its window is not added: the holder is returned in its place.
    func enqueue(_ runs: [NewRun]) async throws -> [Run]
    /// Claims up to `request.limit` runs: each becomes `running`, held by the worker until
    /// `now + lease`, with a new attempt and a `run.started` event.
    func claim(_ request: ClaimRequest) async throws -> [Run]
    /// Extends the leases of the runs `worker` still holds; answers, for each of them, whether a cancel
    /// was asked. Runs it no longer holds are left out.
    func heartbeat(worker: String, ids: [UUID], leaseUntil: Timestamp, now: Timestamp) async throws -> [UUID: Bool]
    /// Applies the completions of runs `worker` still holds, in one transaction; answers the ids applied.
    func complete(worker: String, _ completions: [UUID: RunCompletion], now: Timestamp) async throws -> Set<UUID>
    /// One round of a worker's loop: applies `completions` (as `complete`), then claims (as `claim`),
    /// in one transaction where the backend can. Answers the ids applied and the runs claimed.
    func completeAndClaim(_ completions: [UUID: RunCompletion], _ request: ClaimRequest) async throws -> (
        applied: Set<UUID>, claimed: [Run]
    )
    /// Rescues runs whose lease has expired: the attempt is recorded `lost`, and the run is claimable
    /// again (or `dead` when it has no attempts left). Answers the rescued runs as they are now.
    func rescueExpired(now: Timestamp) async throws -> [Run]
    /// Deletes, with their attempts and steps, ended runs older than the policy keeps them (succeeded and
    /// cancelled ones after `endedSeconds` — health monitoring's after `healthSeconds` — dead ones after
    /// `deadSeconds`, from their end): up to `limit` of health monitoring's and up to `limit` others. Answers how
    /// many went.
    func purge(_ retention: RunRetention, now: Timestamp, limit: Int) async throws -> Int
    /// Cancels a run: a queued or failed one at once; a running one is flagged, and ends `cancelled`
    /// when its worker sees it (or rescued as cancelled). Throws `notFound`, or the 409 for a run that
    /// has ended.
    func cancel(tenant: TenantID, id: UUID, now: Timestamp, record: ChangeRecord) async throws -> Run
    /// Sends a `dead` or `failed` run back to the queue with a fresh count of attempts.
    func replay(tenant: TenantID, id: UUID, now: Timestamp, record: ChangeRecord) async throws -> Run
    /// One run of the tenant.
    func find(tenant: TenantID, id: UUID) async throws -> Run?
    /// A run's attempts, first to last.
    func attempts(tenant: TenantID, id: UUID) async throws -> [RunAttempt]
    /// Stores the step logs of one attempt of a pipeline run (replacing any stored for that attempt).
    func recordSteps(tenant: TenantID, run: UUID, attempt: Int, _ steps: [StepLog]) async throws
    /// A run's step logs, by attempt then position.
    func steps(tenant: TenantID, run: UUID) async throws -> [StepLog]
    /// The tenant's runs matching `query`, newest first.
    func list(tenant: TenantID, query: RunQuery) async throws -> [Run]
    /// Runs by state and kind, for the queue-depth metrics (every tenant).
    func depth() async throws -> [RunDepth]
}

extension RunQueue {
    /// Two transactions: the completions, then the claim.
    public func completeAndClaim(_ completions: [UUID: RunCompletion], _ request: ClaimRequest) async throws -> (
        applied: Set<UUID>, claimed: [Run]
    ) {
        let applied = try await complete(worker: request.workerID, completions, now: request.now)
        return (applied, try await claim(request))
    }
}

/// How many runs of a kind are in a state, and since when the oldest claimable one waits.
public struct RunDepth: Sendable, Hashable {
    /// The kind.
    public var kind: String
    /// The state.
    public var status: RunStatus
    /// How many.
    public var count: Int
    /// The oldest run-at among them.
    public var oldestRunAt: Timestamp?

    /// Creates a depth row.
    public init(kind: String, status: RunStatus, count: Int, oldestRunAt: Timestamp?) {
        self.kind = kind
        self.status = status
        self.count = count
        self.oldestRunAt = oldestRunAt
    }
}

/// How long ended runs are kept (DESIGN §5; seed 002 keeps dead letters 30 days).
public struct RunRetention: Sendable, Hashable {
    /// Succeeded and cancelled runs, from their end (default 7 days).
    public var endedSeconds: Int64
    /// Dead runs, from their end (default 30 days).
    public var deadSeconds: Int64

    /// Events, from when they were recorded (default 0: kept for ever).
    public var eventSeconds: Int64
    /// Succeeded and cancelled runs of health monitoring (`healthRunsPredicate`), from their end (default 1 hour): one
    /// probe per active instance per interval would otherwise keep 2,880 rows a day of each instance for a week,
    /// while the instance's health keeps its last checks itself. Dead ones keep `deadSeconds`, for diagnosis.
    public var healthSeconds: Int64

    /// The SQL predicate of the ended health-monitoring runs `healthSeconds` applies to (the probes and the sweep):
    /// the partial index `runs_health_finished` is declared with it and both stores' purges select with it
    /// verbatim, so that the planners can use the index.
    public static let healthRunsPredicate =
        "kind IN ('\(PlatformRuns.healthProbe)', '\(PlatformRuns.healthSweep)') AND status IN ('succeeded', 'cancelled')"

    /// Creates a policy.
    public init(
        endedSeconds: Int64 = 7 * 86_400, deadSeconds: Int64 = 30 * 86_400, eventSeconds: Int64 = 0,
        healthSeconds: Int64 = 3_600
    ) {
        self.endedSeconds = endedSeconds
        self.deadSeconds = deadSeconds
        self.eventSeconds = eventSeconds
        self.healthSeconds = healthSeconds
    }

    /// The instant before which ended health-monitoring runs go (never later than the other ended runs').
    public func healthCutoff(now: Timestamp) -> Timestamp {
        Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch - min(healthSeconds, endedSeconds) * 1_000_000)
    }

    /// The instants before which ended runs (first) and dead runs (second) go.
    public func cutoffs(now: Timestamp) -> (ended: Timestamp, dead: Timestamp) {
        (
            Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch - endedSeconds * 1_000_000),
            Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch - deadSeconds * 1_000_000)
        )
    }
}
