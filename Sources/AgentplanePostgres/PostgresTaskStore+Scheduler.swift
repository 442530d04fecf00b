import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import PostgresNIO

extension PostgresTaskStore {
    static let columns = """
        id, tenant_id, title, description, schedule_kind, schedule_expr, timezone,
        ap_micros(schedule_start) AS schedule_start, payload::text AS payload, priority, dedupe_key,
        dedupe_window_seconds, max_retries, backoff_strategy, concurrency_key, created_by, called_by, instance_id,
        misfire_policy, status, ap_micros(next_run_at) AS next_run_at, ap_micros(last_run_at) AS last_run_at,
        condition_state, version, ap_micros(created_at) AS created_at, ap_micros(updated_at) AS updated_at
        """

    func apply(_ firings: [TaskFiring], now: Timestamp) async throws -> Int {
        guard !firings.isEmpty else { return 0 }
        let enqueued = try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                var enqueued = 0
                for firing in firings {
                    let task = firing.task
                    var moved = false
                    for try await _ in try await connection.guardedQuery(
                        """
                        UPDATE tasks SET next_run_at = ap_ts(\(firing.nextRunAt?.microsecondsSinceEpoch)),
                            last_run_at = coalesce(ap_ts(\(firing.fires.last?.scheduledAt.microsecondsSinceEpoch)), last_run_at)
                        WHERE id = \(task.id) AND status = 'active'
                            AND next_run_at = ap_ts(\(task.nextRunAt?.microsecondsSinceEpoch))
                        RETURNING id
                        """,
                        logger: logger
                    ) {
                        moved = true
                    }
                    guard moved else { continue }
                    for fire in firing.fires
                    where try await Self.insertFire(fire, of: task, on: connection, logger: logger) {
                        _ = try await PostgresEventLog.append(
                            [Events.taskFired(task, fire, context: EventContext(), at: now)], tenant: task.tenantID,
                            on: connection, logger: logger)
                        _ = try await PostgresRunQueue.enqueue(fire.run, on: connection, logger: logger)
                        enqueued += 1
                    }
                }
                return enqueued
            }
        }
        if enqueued > 0 { wake() }
        return enqueued
    }

    func eventTenants() async throws -> [TenantID] {
        try await PostgresErrors.translating {
            try await client.withScopedRead(
                .platformWide,
                sql: "SELECT DISTINCT tenant_id FROM tasks WHERE status = 'active' AND schedule_kind = 'event'",
                binds: PostgresBindings(), logger: logger
            ) { rows in
                var tenants: [TenantID] = []
                for try await id in rows.decode(UUID.self) { tenants.append(TenantID(id)) }
                return tenants
            }
        }
    }

    func fire(_ fires: [(task: AgentTask, fire: TaskFire)], now: Timestamp) async throws -> Int {
        guard !fires.isEmpty else { return 0 }
        let enqueued = try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                var enqueued = 0
                for (task, fire) in fires
                where try await Self.insertFire(fire, of: task, on: connection, logger: logger) {
                    _ = try await PostgresEventLog.append(
                        [Events.taskFired(task, fire, context: EventContext(), at: now)], tenant: task.tenantID,
                        on: connection, logger: logger)
                    _ = try await PostgresRunQueue.enqueue(fire.run, on: connection, logger: logger)
                    enqueued += 1
                }
                return enqueued
            }
        }
        if enqueued > 0 { wake() }
        return enqueued
    }

    func complete(tenant: TenantID, id: UUID, now: Timestamp) async throws -> Bool {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(tenant), logger: logger) { connection in
                var completed: AgentTask?
                for try await row in try await connection.guardedQuery(
                    """
                    UPDATE tasks SET status = 'completed', next_run_at = NULL, version = version + 1,
                        updated_at = ap_ts(\(now.microsecondsSinceEpoch))
                    WHERE tenant_id = \(tenant.rawValue) AND id = \(id) AND status = 'active'
                    RETURNING \(unescaped: Self.columns)
                    """,
                    logger: logger
                ) {
                    completed = try Self.task(row.makeRandomAccess())
                }
                guard let completed else { return false }
                var event = Events.task(.taskStatusChanged, completed, context: EventContext(), at: now)
                event.set(from: TaskStatus.active.rawValue, to: TaskStatus.completed.rawValue)
                _ = try await PostgresEventLog.append([event], tenant: tenant, on: connection, logger: logger)
                return true
            }
        }
    }

    func setConditionState(tenant: TenantID, id: UUID, state: Bool) async throws {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(tenant), logger: logger) { connection in
                try await connection.guardedQuery(
                    "UPDATE tasks SET condition_state = \(state) WHERE tenant_id = \(tenant.rawValue) AND id = \(id)",
                    logger: logger)
            }
        }
    }

    func holdLease(_ name: String, holder: String, until: Timestamp, now: Timestamp) async throws -> Bool {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                for try await current in try await connection.guardedQuery(
                    """
                    INSERT INTO scheduler_leases (name, holder, expires_at)
                    VALUES (\(name), \(holder), ap_ts(\(until.microsecondsSinceEpoch)))
                    ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                        WHERE scheduler_leases.holder = excluded.holder
                            OR scheduler_leases.expires_at <= ap_ts(\(now.microsecondsSinceEpoch))
                    RETURNING holder
                    """,
                    logger: logger
                ).decode(String.self) {
                    return current == holder
                }
                return false
            }
        }
    }

    func releaseLease(_ name: String, holder: String) async throws {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                try await connection.guardedQuery(
                    "DELETE FROM scheduler_leases WHERE name = \(name) AND holder = \(holder)", logger: logger)
            }
        }
    }

    func cursor(_ name: String) async throws -> String? {
        var binds = PostgresBindings()
        binds.append(name)
        return try await PostgresErrors.translating {
            try await client.withScopedRead(
                .platformWide, sql: "SELECT position FROM scheduler_cursors WHERE name = $1", binds: binds,
                logger: logger
            ) { rows in
                for try await position in rows.decode(String.self) { return position }
                return nil
            }
        }
    }

    func setCursor(_ name: String, to position: String) async throws {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                try await connection.guardedQuery(
                    """
                    INSERT INTO scheduler_cursors (name, position) VALUES (\(name), \(position))
                    ON CONFLICT (name) DO UPDATE SET position = excluded.position
                    """,
                    logger: logger)
            }
        }
    }

    /// Records a fire; false when the task already has one with its key.
    static func insertFire(_ fire: TaskFire, of task: AgentTask, on connection: PostgresConnection, logger: Logger)
        async throws -> Bool
    {
        for try await _ in try await connection.guardedQuery(
            """
            INSERT INTO task_fires (task_id, fire_key, tenant_id, run_id, scheduled_at, created_at)
            VALUES (\(task.id), \(fire.key), \(task.tenantID.rawValue), \(fire.run.id),
                ap_ts(\(fire.scheduledAt.microsecondsSinceEpoch)), ap_ts(\(fire.run.createdAt.microsecondsSinceEpoch)))
            ON CONFLICT (task_id, fire_key) DO NOTHING
            RETURNING task_id
            """,
            logger: logger
        ) {
            return true
        }
        return false
    }

    static func task(_ row: PostgresRandomAccessRow) throws -> AgentTask {
        guard let payload = JSONValue(parsing: try row["payload"].decode(String.self))?.objectValue,
            let strategy = BackoffStrategy(rawValue: try row["backoff_strategy"].decode(String.self)),
            let policy = MisfirePolicy(rawValue: try row["misfire_policy"].decode(String.self)),
            let status = TaskStatus(rawValue: try row["status"].decode(String.self))
        else { throw StoreError(.corruptData, "A stored task could not be decoded.") }
        let micros = { (name: String) throws -> Timestamp? in
            try row[name].decode(Int64?.self).map(Timestamp.init(microsecondsSinceEpoch:))
        }
        return AgentTask(
            id: try row["id"].decode(UUID.self), tenantID: TenantID(try row["tenant_id"].decode(UUID.self)),
            title: try row["title"].decode(String.self), description: try row["description"].decode(String.self),
            scheduleKind: try row["schedule_kind"].decode(String.self),
            scheduleExpr: try row["schedule_expr"].decode(String?.self),
            timezone: try row["timezone"].decode(String.self),
            scheduleStart: Timestamp(microsecondsSinceEpoch: try row["schedule_start"].decode(Int64.self)),
            payload: payload, priority: try row["priority"].decode(Int.self),
            dedupeKey: try row["dedupe_key"].decode(String?.self),
            dedupeWindowSeconds: try row["dedupe_window_seconds"].decode(Int.self),
            maxRetries: try row["max_retries"].decode(Int.self), backoffStrategy: strategy,
            concurrencyKey: try row["concurrency_key"].decode(String?.self),
            createdBy: try row["created_by"].decode(String.self), calledBy: try row["called_by"].decode(String.self),
            instanceID: try row["instance_id"].decode(UUID?.self), misfirePolicy: policy, status: status,
            nextRunAt: try micros("next_run_at"), lastRunAt: try micros("last_run_at"),
            conditionState: try row["condition_state"].decode(Bool?.self),
            version: try row["version"].decode(Int64.self),
            createdAt: Timestamp(microsecondsSinceEpoch: try row["created_at"].decode(Int64.self)),
            updatedAt: Timestamp(microsecondsSinceEpoch: try row["updated_at"].decode(Int64.self)))
    }
}
