import AgentplaneCore
import Foundation

/// Which tasks a list shows, oldest first (ids are time-ordered).
public struct TaskQuery: Sendable, Hashable {
    /// Only in this state.
    public var status: TaskStatus?
    /// Only with this `created_by`.
    public var createdBy: String?
    /// Only of this schedule kind.
    public var scheduleKind: String?
    /// Only after this id (the cursor).
    public var after: UUID?
    /// Page size.
    public var limit: Int

    /// Creates a query.
    public init(
        status: TaskStatus? = nil, createdBy: String? = nil, scheduleKind: String? = nil, after: UUID? = nil,
        limit: Int = 50
    ) {
        self.status = status
        self.createdBy = createdBy
        self.scheduleKind = scheduleKind
        self.after = after
        self.limit = limit
    }
}

/// Persistence of tasks, their fires, and the scheduler's lease and event cursor.
public protocol TaskStore: Sendable {
    /// Inserts the task unless the tenant already has its `max_tasks` (`quotaExceeded`; `notFound` without
    /// the tenant).
    func create(_ task: AgentTask, record: ChangeRecord) async throws
    /// One task of the tenant.
    func find(tenant: TenantID, id: UUID) async throws -> AgentTask?
    /// The tenant's tasks matching `query`.
    func list(tenant: TenantID, query: TaskQuery) async throws -> [AgentTask]
    /// Replaces the task when the stored version is `expectedVersion` and the stored status is `from`.
    /// Throws `notFound` or `staleVersion`.
    func update(_ task: AgentTask, expectedVersion: Int64, from: TaskStatus, record: ChangeRecord) async throws
        -> AgentTask
    /// Deletes the task (its runs stay); throws `notFound`.
    func delete(tenant: TenantID, id: UUID, record: ChangeRecord) async throws
    /// Records a fire of the task and enqueues its run, with `record`'s events and audit row, in one
    /// transaction. Answers false (and writes nothing) when the task already has a fire with that key.
    func fire(_ fire: TaskFire, of task: AgentTask, record: ChangeRecord) async throws -> Bool

    /// The earliest `next_run_at` of an active task, every tenant.
    func nextDue() async throws -> Timestamp?
    /// Active tasks whose `next_run_at` is at or before `now`, every tenant, soonest first.
    func due(now: Timestamp, limit: Int) async throws -> [AgentTask]
    /// Applies the scheduler's firings in one transaction: each task whose `next_run_at` is still the one
    /// read gets its new `next_run_at` and `last_run_at`, and each of its fires not recorded before enqueues
    /// its run with `task.fired`. Answers the fires enqueued.
    func apply(_ firings: [TaskFiring], now: Timestamp) async throws -> Int
    /// Active event tasks of the tenant.
    func eventTasks(tenant: TenantID) async throws -> [AgentTask]
    /// The tenants that have active event tasks.
    func eventTenants() async throws -> [TenantID]
    /// Records fires (event fires) and enqueues their runs with `task.fired`, in one transaction; a fire
    /// whose (task, key) is already recorded is skipped. Answers the fires enqueued.
    func fire(_ fires: [(task: AgentTask, fire: TaskFire)], now: Timestamp) async throws -> Int
    /// Marks a task `completed` (a `once` task after its run) unless it has left `active`; answers whether
    /// it changed.
    func complete(tenant: TenantID, id: UUID, now: Timestamp) async throws -> Bool
    /// Stores a condition task's last answer.
    func setConditionState(tenant: TenantID, id: UUID, state: Bool) async throws

    /// Takes or renews the named lease for `holder` until `until`, when it is free, expired at `now`, or
    /// already `holder`'s; answers whether `holder` holds it.
    func holdLease(_ name: String, holder: String, until: Timestamp, now: Timestamp) async throws -> Bool
    /// Gives the lease up if `holder` holds it.
    func releaseLease(_ name: String, holder: String) async throws
    /// A stored cursor (the scheduler's position in the event log).
    func cursor(_ name: String) async throws -> String?
    /// Stores a cursor.
    func setCursor(_ name: String, to position: String) async throws
}
