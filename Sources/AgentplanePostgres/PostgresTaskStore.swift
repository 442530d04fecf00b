import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import PostgresNIO

/// Tasks on PostgreSQL. Fires are rows keyed by (task, fire key): whichever node writes one first enqueues
/// the run, so a fire is never doubled, not even by two schedulers during a lease hand-over.
struct PostgresTaskStore: TaskStore {
    let client: PostgresClient
    let logger: Logger
    /// Wakes the workers after a commit that enqueued runs.
    let wake: @Sendable () -> Void

    func create(_ task: AgentTask, record: ChangeRecord) async throws {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(task.tenantID), logger: logger) { connection in
                try await connection.guardedQuery(
                    """
                    INSERT INTO tasks (id, tenant_id, title, description, schedule_kind, schedule_expr, timezone,
                        schedule_start, payload, priority, dedupe_key, dedupe_window_seconds, max_retries,
                        backoff_strategy, concurrency_key, created_by, called_by, instance_id, misfire_policy, status,
                        next_run_at, last_run_at, condition_state, version, created_at, updated_at)
                    VALUES (\(task.id), \(task.tenantID.rawValue), \(task.title), \(task.description),
                        \(task.scheduleKind), \(task.scheduleExpr), \(task.timezone),
                        ap_ts(\(task.scheduleStart.microsecondsSinceEpoch)), \(JSONValue.object(task.payload).jsonText)::jsonb,
                        \(task.priority), \(task.dedupeKey), \(task.dedupeWindowSeconds), \(task.maxRetries),
                        \(task.backoffStrategy.rawValue), \(task.concurrencyKey), \(task.createdBy), \(task.calledBy),
                        \(task.instanceID), \(task.misfirePolicy.rawValue), \(task.status.rawValue),
                        ap_ts(\(task.nextRunAt?.microsecondsSinceEpoch)), ap_ts(\(task.lastRunAt?.microsecondsSinceEpoch)),
                        \(task.conditionState), \(task.version), ap_ts(\(task.createdAt.microsecondsSinceEpoch)),
                        ap_ts(\(task.updatedAt.microsecondsSinceEpoch)))
                    """,
                    logger: logger)
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
                try await PostgresTenantUsage.reserve(.tasks, tenant: task.tenantID, on: connection, logger: logger)
            }
        }
    }

    func find(tenant: TenantID, id: UUID) async throws -> AgentTask? {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(id)
        return try await read(.tenant(tenant), "WHERE tenant_id = $1 AND id = $2", binds).first
    }

    func list(tenant: TenantID, query: TaskQuery) async throws -> [AgentTask] {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(query.after)
        binds.append(query.status?.rawValue)
        binds.append(query.createdBy)
        binds.append(query.scheduleKind)
        binds.append(query.limit)
        return try await read(
            .tenant(tenant),
            """
            WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2) AND ($3::text IS NULL OR status = $3)
                AND ($4::text IS NULL OR created_by = $4) AND ($5::text IS NULL OR schedule_kind = $5)
            ORDER BY id LIMIT $6
            """, binds)
    }

    func update(_ task: AgentTask, expectedVersion: Int64, from: TaskStatus, record: ChangeRecord) async throws
        -> AgentTask
    {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(task.tenantID), logger: logger) { connection in
                var updated = false
                for try await _ in try await connection.guardedQuery(
                    """
                    UPDATE tasks SET title = \(task.title), description = \(task.description),
                        schedule_kind = \(task.scheduleKind), schedule_expr = \(task.scheduleExpr),
                        timezone = \(task.timezone), schedule_start = ap_ts(\(task.scheduleStart.microsecondsSinceEpoch)),
                        payload = \(JSONValue.object(task.payload).jsonText)::jsonb, priority = \(task.priority),
                        dedupe_key = \(task.dedupeKey), dedupe_window_seconds = \(task.dedupeWindowSeconds),
                        max_retries = \(task.maxRetries), backoff_strategy = \(task.backoffStrategy.rawValue),
                        concurrency_key = \(task.concurrencyKey), created_by = \(task.createdBy),
                        instance_id = \(task.instanceID), misfire_policy = \(task.misfirePolicy.rawValue),
                        status = \(task.status.rawValue), next_run_at = ap_ts(\(task.nextRunAt?.microsecondsSinceEpoch)),
                        version = \(task.version), updated_at = ap_ts(\(task.updatedAt.microsecondsSinceEpoch))
                    WHERE tenant_id = \(task.tenantID.rawValue) AND id = \(task.id) AND version = \(expectedVersion)
                        AND status = \(from.rawValue)
                    RETURNING id
                    """,
                    logger: logger
                ) {
                    updated = true
                }
                guard updated else {
                    let exists = try await PostgresRows.exists(
                        on: connection, table: "tasks", id: task.id, tenant: task.tenantID, logger: logger)
                    throw StoreError.conditionalWriteMissed("task", rowExists: exists)
                }
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
                return task
            }
        }
    }

    func delete(tenant: TenantID, id: UUID, record: ChangeRecord) async throws {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(tenant), logger: logger) { connection in
                var deleted = false
                for try await _ in try await connection.guardedQuery(
                    "DELETE FROM tasks WHERE tenant_id = \(tenant.rawValue) AND id = \(id) RETURNING id", logger: logger
                ) {
                    deleted = true
                }
                guard deleted else { throw StoreError(.notFound, "No such task.") }
                try await connection.guardedQuery(
                    "DELETE FROM task_fires WHERE tenant_id = \(tenant.rawValue) AND task_id = \(id)", logger: logger)
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
                try await PostgresTenantUsage.release(.tasks, count: 1, tenant: tenant, on: connection, logger: logger)
            }
        }
    }

    func fire(_ fire: TaskFire, of task: AgentTask, record: ChangeRecord) async throws -> Bool {
        let fired = try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(task.tenantID), logger: logger) { connection in
                guard try await Self.insertFire(fire, of: task, on: connection, logger: logger) else { return false }
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
                return true
            }
        }
        if fired { wake() }
        return fired
    }

    func due(now: Timestamp, limit: Int) async throws -> [AgentTask] {
        var binds = PostgresBindings()
        binds.append(now.microsecondsSinceEpoch)
        binds.append(limit)
        return try await read(
            .platformWide,
            """
            WHERE status = 'active' AND next_run_at IS NOT NULL AND next_run_at <= ap_ts($1)
            ORDER BY next_run_at LIMIT $2
            """, binds)
    }

    func nextDue() async throws -> Timestamp? {
        try await PostgresErrors.translating {
            try await client.withScopedRead(
                .platformWide,
                sql: """
                    SELECT ap_micros(next_run_at) FROM tasks
                    WHERE status = 'active' AND next_run_at IS NOT NULL ORDER BY next_run_at LIMIT 1
                    """,
                binds: PostgresBindings(), logger: logger
            ) { rows in
                for try await micros in rows.decode(Int64.self) { return Timestamp(microsecondsSinceEpoch: micros) }
                return nil
            }
        }
    }

    func eventTasks(tenant: TenantID) async throws -> [AgentTask] {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        return try await read(
            .tenant(tenant), "WHERE tenant_id = $1 AND status = 'active' AND schedule_kind = 'event' ORDER BY id",
            binds)
    }

    func read(_ scope: RowScope, _ condition: String, _ binds: PostgresBindings) async throws -> [AgentTask] {
        try await PostgresErrors.translating {
            try await client.withScopedRead(
                scope, sql: "SELECT \(Self.columns) FROM tasks \(condition)", binds: binds, logger: logger
            ) { rows in
                var tasks: [AgentTask] = []
                for try await row in rows { tasks.append(try Self.task(row.makeRandomAccess())) }
                return tasks
            }
        }
    }
}
