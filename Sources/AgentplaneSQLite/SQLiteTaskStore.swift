import AgentplaneCore
import AgentplaneStore
import Foundation
import GRDB

/// Tasks on SQLite: the single writer makes the quota counter and the scheduler's writes exact.
struct SQLiteTaskStore: TaskStore {
    let pool: DatabasePool

    func create(_ task: AgentTask, record: ChangeRecord) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try SQLiteTenantUsage.reserve(.tasks, tenant: task.tenantID, in: db)
                try db.cachedStatement(
                    sql: """
                        INSERT INTO tasks (\(Self.columns))
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """
                ).execute(arguments: Self.arguments(task))
                try SQLiteChangeRecorder.record(record, in: db)
            }
        }
    }

    func find(tenant: TenantID, id: UUID) async throws -> AgentTask? {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchOne(
                    try db.cachedStatement(sql: "SELECT \(Self.columns) FROM tasks WHERE tenant_id = ? AND id = ?"),
                    arguments: [tenant.description, id.lowercasedString]
                ).map(Self.task)
            }
        }
    }

    func list(tenant: TenantID, query: TaskQuery) async throws -> [AgentTask] {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                var sql = "SELECT \(Self.columns) FROM tasks WHERE tenant_id = ? AND id > ?"
                var arguments: StatementArguments = [tenant.description, query.after?.lowercasedString ?? ""]
                if let status = query.status {
                    sql += " AND status = ?"
                    arguments += [status.rawValue]
                }
                if let createdBy = query.createdBy {
                    sql += " AND created_by = ?"
                    arguments += [createdBy]
                }
                if let kind = query.scheduleKind {
                    sql += " AND schedule_kind = ?"
                    arguments += [kind]
                }
                sql += " ORDER BY id LIMIT ?"
                arguments += [query.limit]
                return try Row.fetchAll(try db.cachedStatement(sql: sql), arguments: arguments).map(Self.task)
            }
        }
    }

    func update(_ task: AgentTask, expectedVersion: Int64, from: TaskStatus, record: ChangeRecord) async throws
        -> AgentTask
    {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: """
                        UPDATE tasks SET title = ?, description = ?, schedule_kind = ?, schedule_expr = ?, timezone = ?,
                            schedule_start = ?, payload = ?, priority = ?, dedupe_key = ?, dedupe_window_seconds = ?,
                            max_retries = ?, backoff_strategy = ?, concurrency_key = ?, created_by = ?, instance_id = ?,
                            misfire_policy = ?, status = ?, next_run_at = ?, version = ?, updated_at = ?
                        WHERE tenant_id = ? AND id = ? AND version = ? AND status = ?
                        """
                ).execute(arguments: [
                    task.title, task.description, task.scheduleKind, task.scheduleExpr, task.timezone,
                    task.scheduleStart.microsecondsSinceEpoch, JSONValue.object(task.payload).jsonText, task.priority,
                    task.dedupeKey, task.dedupeWindowSeconds, task.maxRetries, task.backoffStrategy.rawValue,
                    task.concurrencyKey, task.createdBy, task.instanceID?.lowercasedString, task.misfirePolicy.rawValue,
                    task.status.rawValue, task.nextRunAt?.microsecondsSinceEpoch, task.version,
                    task.updatedAt.microsecondsSinceEpoch, task.tenantID.description, task.id.lowercasedString,
                    expectedVersion, from.rawValue,
                ])
                guard db.changesCount == 1 else {
                    let exists = try SQLiteRows.exists(db, table: "tasks", id: task.id, tenant: task.tenantID)
                    throw StoreError.conditionalWriteMissed("task", rowExists: exists)
                }
                try SQLiteChangeRecorder.record(record, in: db)
                return task
            }
        }
    }

    func delete(tenant: TenantID, id: UUID, record: ChangeRecord) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(sql: "DELETE FROM tasks WHERE tenant_id = ? AND id = ?").execute(
                    arguments: [tenant.description, id.lowercasedString])
                guard db.changesCount == 1 else { throw StoreError(.notFound, "No such task.") }
                try db.cachedStatement(sql: "DELETE FROM task_fires WHERE task_id = ?").execute(
                    arguments: [id.lowercasedString])
                try SQLiteTenantUsage.release(.tasks, count: 1, tenant: tenant, in: db)
                try SQLiteChangeRecorder.record(record, in: db)
            }
        }
    }

    func fire(_ fire: TaskFire, of task: AgentTask, record: ChangeRecord) async throws -> Bool {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                guard try Self.insertFire(fire, of: task, in: db) else { return false }
                try SQLiteChangeRecorder.record(record, in: db)
                return true
            }
        }
    }

    func due(now: Timestamp, limit: Int) async throws -> [AgentTask] {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchAll(
                    try db.cachedStatement(
                        sql: """
                            SELECT \(Self.columns) FROM tasks INDEXED BY tasks_due
                            WHERE status = 'active' AND next_run_at IS NOT NULL AND next_run_at <= ?
                            ORDER BY next_run_at LIMIT ?
                            """),
                    arguments: [now.microsecondsSinceEpoch, limit]
                ).map(Self.task)
            }
        }
    }

    func nextDue() async throws -> Timestamp? {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Int64.fetchOne(
                    try db.cachedStatement(
                        sql: """
                            SELECT next_run_at FROM tasks INDEXED BY tasks_due
                            WHERE status = 'active' AND next_run_at IS NOT NULL ORDER BY next_run_at LIMIT 1
                            """)
                ).map(Timestamp.init(microsecondsSinceEpoch:))
            }
        }
    }

    func apply(_ firings: [TaskFiring], now: Timestamp) async throws -> Int {
        guard !firings.isEmpty else { return 0 }
        return try await SQLiteErrors.translating {
            try await pool.write { db in
                var enqueued = 0
                for firing in firings {
                    let task = firing.task
                    try db.cachedStatement(
                        sql: """
                            UPDATE tasks SET next_run_at = ?, last_run_at = coalesce(?, last_run_at)
                            WHERE id = ? AND status = 'active' AND next_run_at = ?
                            """
                    ).execute(arguments: [
                        firing.nextRunAt?.microsecondsSinceEpoch,
                        firing.fires.last?.scheduledAt.microsecondsSinceEpoch, task.id.lowercasedString,
                        task.nextRunAt?.microsecondsSinceEpoch,
                    ])
                    guard db.changesCount == 1 else { continue }
                    for fire in firing.fires where try Self.insertFire(fire, of: task, in: db) {
                        _ = try SQLiteEventLog.append(
                            [Events.taskFired(task, fire, context: EventContext(), at: now)], tenant: task.tenantID,
                            in: db)
                        _ = try SQLiteRunQueue.enqueue(fire.run, in: db)
                        enqueued += 1
                    }
                }
                return enqueued
            }
        }
    }

    func eventTasks(tenant: TenantID) async throws -> [AgentTask] {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchAll(
                    try db.cachedStatement(
                        sql: """
                            SELECT \(Self.columns) FROM tasks
                            WHERE tenant_id = ? AND status = 'active' AND schedule_kind = 'event' ORDER BY id
                            """),
                    arguments: [tenant.description]
                ).map(Self.task)
            }
        }
    }

    func eventTenants() async throws -> [TenantID] {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try String.fetchAll(
                    try db.cachedStatement(
                        sql: "SELECT DISTINCT tenant_id FROM tasks WHERE status = 'active' AND schedule_kind = 'event'")
                ).compactMap(TenantID.init(uuidString:))
            }
        }
    }

    func fire(_ fires: [(task: AgentTask, fire: TaskFire)], now: Timestamp) async throws -> Int {
        guard !fires.isEmpty else { return 0 }
        return try await SQLiteErrors.translating {
            try await pool.write { db in
                var enqueued = 0
                for (task, fire) in fires where try Self.insertFire(fire, of: task, in: db) {
                    _ = try SQLiteEventLog.append(
                        [Events.taskFired(task, fire, context: EventContext(), at: now)], tenant: task.tenantID, in: db)
                    _ = try SQLiteRunQueue.enqueue(fire.run, in: db)
                    enqueued += 1
                }
                return enqueued
            }
        }
    }

    func complete(tenant: TenantID, id: UUID, now: Timestamp) async throws -> Bool {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: """
                        UPDATE tasks SET status = 'completed', next_run_at = NULL, version = version + 1, updated_at = ?
                        WHERE tenant_id = ? AND id = ? AND status = 'active'
                        """
                ).execute(arguments: [now.microsecondsSinceEpoch, tenant.description, id.lowercasedString])
                guard db.changesCount == 1, let task = try Self.find(tenant: tenant, id: id, in: db) else {
                    return false
                }
                var event = Events.task(.taskStatusChanged, task, context: EventContext(), at: now)
                event.set(from: TaskStatus.active.rawValue, to: TaskStatus.completed.rawValue)
                _ = try SQLiteEventLog.append([event], tenant: tenant, in: db)
                return true
            }
        }
    }

    func setConditionState(tenant: TenantID, id: UUID, state: Bool) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(sql: "UPDATE tasks SET condition_state = ? WHERE tenant_id = ? AND id = ?")
                    .execute(arguments: [state, tenant.description, id.lowercasedString])
            }
        }
    }

    func holdLease(_ name: String, holder: String, until: Timestamp, now: Timestamp) async throws -> Bool {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try String.fetchOne(
                    try db.cachedStatement(
                        sql: """
                            INSERT INTO scheduler_leases (name, holder, expires_at) VALUES (?, ?, ?)
                            ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                                WHERE scheduler_leases.holder = excluded.holder OR scheduler_leases.expires_at <= ?
                            RETURNING holder
                            """),
                    arguments: [name, holder, until.microsecondsSinceEpoch, now.microsecondsSinceEpoch]) == holder
            }
        }
    }

    func releaseLease(_ name: String, holder: String) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(sql: "DELETE FROM scheduler_leases WHERE name = ? AND holder = ?").execute(
                    arguments: [name, holder])
            }
        }
    }

    func cursor(_ name: String) async throws -> String? {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try String.fetchOne(
                    try db.cachedStatement(sql: "SELECT position FROM scheduler_cursors WHERE name = ?"),
                    arguments: [name])
            }
        }
    }

    func setCursor(_ name: String, to position: String) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: """
                        INSERT INTO scheduler_cursors (name, position) VALUES (?, ?)
                        ON CONFLICT (name) DO UPDATE SET position = excluded.position
                        """
                ).execute(arguments: [name, position])
            }
        }
    }

    /// Records a fire; false when the task already has one with its key.
    static func insertFire(_ fire: TaskFire, of task: AgentTask, in db: Database) throws -> Bool {
        try db.cachedStatement(
            sql: """
                INSERT INTO task_fires (task_id, fire_key, tenant_id, run_id, scheduled_at, created_at)
                VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (task_id, fire_key) DO NOTHING
                """
        ).execute(arguments: [
            task.id.lowercasedString, fire.key, task.tenantID.description, fire.run.id.lowercasedString,
            fire.scheduledAt.microsecondsSinceEpoch, fire.run.createdAt.microsecondsSinceEpoch,
        ])
        return db.changesCount == 1
    }

    static func find(tenant: TenantID, id: UUID, in db: Database) throws -> AgentTask? {
        try Row.fetchOne(
            try db.cachedStatement(sql: "SELECT \(columns) FROM tasks WHERE tenant_id = ? AND id = ?"),
            arguments: [tenant.description, id.lowercasedString]
        ).map(task)
    }
}
