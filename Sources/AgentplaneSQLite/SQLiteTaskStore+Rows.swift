import AgentplaneCore
import AgentplaneStore
import Foundation
import GRDB

extension SQLiteTaskStore {
    /// The columns of `tasks`, in the order `arguments(_:)` binds and `task(_:)` reads them.
    static let columns = """
        id, tenant_id, title, description, schedule_kind, schedule_expr, timezone, schedule_start, payload, priority, \
        dedupe_key, dedupe_window_seconds, max_retries, backoff_strategy, concurrency_key, created_by, called_by, \
        instance_id, misfire_policy, status, next_run_at, last_run_at, condition_state, version, created_at, updated_at
        """

    static func arguments(_ task: AgentTask) -> StatementArguments {
        [
            task.id.lowercasedString, task.tenantID.description, task.title, task.description, task.scheduleKind,
            task.scheduleExpr, task.timezone, task.scheduleStart.microsecondsSinceEpoch,
            JSONValue.object(task.payload).jsonText, task.priority, task.dedupeKey, task.dedupeWindowSeconds,
            task.maxRetries, task.backoffStrategy.rawValue, task.concurrencyKey, task.createdBy, task.calledBy,
            task.instanceID?.lowercasedString, task.misfirePolicy.rawValue, task.status.rawValue,
            task.nextRunAt?.microsecondsSinceEpoch, task.lastRunAt?.microsecondsSinceEpoch, task.conditionState,
            task.version, task.createdAt.microsecondsSinceEpoch, task.updatedAt.microsecondsSinceEpoch,
        ]
    }

    static func task(_ row: Row) throws -> AgentTask {
        guard let id = UUID(canonical: row[0]), let tenant = TenantID(uuidString: row[1]),
            let payload = JSONValue(parsing: row[8] as String)?.objectValue,
            let strategy = BackoffStrategy(rawValue: row[13]), let policy = MisfirePolicy(rawValue: row[18]),
            let status = TaskStatus(rawValue: row[19])
        else { throw StoreError(.corruptData, "A stored task could not be decoded.") }
        let micros = { (index: Int) in (row[index] as Int64?).map(Timestamp.init(microsecondsSinceEpoch:)) }
        return AgentTask(
            id: id, tenantID: tenant, title: row[2], description: row[3], scheduleKind: row[4], scheduleExpr: row[5],
            timezone: row[6], scheduleStart: Timestamp(microsecondsSinceEpoch: row[7]), payload: payload,
            priority: row[9], dedupeKey: row[10], dedupeWindowSeconds: row[11], maxRetries: row[12],
            backoffStrategy: strategy, concurrencyKey: row[14], createdBy: row[15], calledBy: row[16],
            instanceID: (row[17] as String?).flatMap(UUID.init(canonical:)), misfirePolicy: policy, status: status,
            nextRunAt: micros(20), lastRunAt: micros(21), conditionState: row[22], version: row[23],
            createdAt: Timestamp(microsecondsSinceEpoch: row[24]), updatedAt: Timestamp(microsecondsSinceEpoch: row[25])
        )
    }
}
