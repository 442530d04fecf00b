import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import PostgresNIO

/// The queue's writes as sets, shared by its operations and by `PostgresChangeRecorder` (a change's
/// own runs), and the row decoding.
extension PostgresRunQueue {
    /// Inserts runs inside the caller's transaction: those without a dedupe key as one set (one
    /// statement, then one event statement per tenant), the others one by one (`enqueue(_:on:logger:)`).
    /// Answers the stored runs in the order given.
    @discardableResult
    static func enqueueAll(_ runs: [NewRun], on connection: PostgresConnection, logger: Logger) async throws -> [Run] {
        var errors: [FieldError] = []
        for run in runs { errors += run.errors() }
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        var stored: [UUID: Run] = [:]
        let plain = runs.filter { $0.dedupeUntil == nil }
        if !plain.isEmpty {
            var rows = JSONWriter(capacity: plain.count * 384)
            rows.beginArray()
            for run in plain {
                rows.element()
                rows.beginObject()
                rows.key("arguments")
                rows.object(run.arguments)
                rows.field("backoff_base_seconds", .double(run.backoff.baseSeconds))
                rows.field("backoff_cap_seconds", .double(run.backoff.capSeconds))
                rows.field("backoff_strategy", run.backoff.strategy.rawValue)
                rows.field("concurrency_key", run.concurrencyKey)
                rows.field("concurrency_limit", Int64(run.concurrencyLimit))
                rows.field("created_at", run.createdAt.microsecondsSinceEpoch)
                rows.field("id", run.id.lowercasedString)
                rows.field("instance_id", run.instanceID?.lowercasedString)
                rows.field("kind", run.kind)
                rows.field("max_attempts", Int64(run.maxAttempts))
                rows.field("priority", Int64(run.priority))
                rows.field("run_at", run.runAt.microsecondsSinceEpoch)
                rows.field("task_id", run.taskID?.lowercasedString)
                rows.field("tenant_id", run.tenantID.description)
                rows.endObject()
            }
            rows.endArray()
            let json = String(decoding: rows.bytes, as: UTF8.self)
            try await connection.guardedQuery(
                """
                INSERT INTO runs (id, tenant_id, kind, arguments, priority, status, run_at, attempt, attempt_base,
                    max_attempts, backoff_strategy, backoff_base_seconds, backoff_cap_seconds, concurrency_key,
                    concurrency_limit, instance_id, cancel_requested, created_at, updated_at, task_id)
                SELECT id, tenant_id, kind, arguments, priority, 'queued', ap_ts(run_at), 0, 0, max_attempts,
                    backoff_strategy, backoff_base_seconds, backoff_cap_seconds, concurrency_key, concurrency_limit,
                    instance_id, false, ap_ts(created_at), ap_ts(created_at), task_id
                FROM jsonb_to_recordset(\(json)::jsonb) AS x(id uuid, tenant_id uuid, kind text, arguments jsonb,
                    priority integer, run_at bigint, max_attempts integer, backoff_strategy text,
                    backoff_base_seconds double precision, backoff_cap_seconds double precision, concurrency_key text,
                    concurrency_limit integer, instance_id uuid, created_at bigint, task_id uuid)
                """,
                logger: logger)
            for new in plain {
                var request = new
                request.dedupeKey = nil
                request.dedupeWindowSeconds = 0
                stored[new.id] = Run(
                    request: request, status: .queued, attempt: 0, workerID: nil, leaseExpiresAt: nil,
                    cancelRequested: false, result: nil, lastError: nil, updatedAt: new.createdAt, finishedAt: nil)
            }
            for (tenant, group) in Dictionary(grouping: plain, by: \.tenantID) {
                _ = try await PostgresEventLog.append(
                    group.map { Events.run(.runQueued, stored[$0.id]!, at: $0.createdAt) }, tenant: tenant,
                    on: connection, logger: logger)
            }
        }
        var result: [Run] = []
        for run in runs {
            if let done = stored[run.id] {
                result.append(done)
            } else {
                result.append(try await enqueue(run, on: connection, logger: logger))
            }
        }
        return result
    }

    /// Inserts `new` inside the caller's transaction with its `run.queued` event; a live dedupe holder
    /// is returned instead (concurrent enqueues of one key: the unique index makes the second wait for
    /// the first's commit, then find it).
    static func enqueue(_ new: NewRun, on connection: PostgresConnection, logger: Logger) async throws -> Run {
        let errors = new.errors()
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        let dedupeKey = new.dedupeUntil == nil ? nil : new.dedupeKey
        if let key = dedupeKey {
            // A holder whose window has passed gives the key up.
            try await connection.guardedQuery(
                """
                UPDATE runs SET dedupe_key = NULL
                WHERE tenant_id = \(new.tenantID.rawValue) AND kind = \(new.kind) AND dedupe_key = \(key)
                    AND dedupe_until <= ap_ts(\(new.createdAt.microsecondsSinceEpoch))
                """,
                logger: logger)
        }
        let arguments = JSONValue.object(new.arguments).jsonText
        var inserted = false
        for try await _ in try await connection.guardedQuery(
            """
            INSERT INTO runs (id, tenant_id, kind, arguments, priority, status, run_at, attempt, attempt_base,
                max_attempts, backoff_strategy, backoff_base_seconds, backoff_cap_seconds, dedupe_key, dedupe_until,
                concurrency_key, concurrency_limit, instance_id, cancel_requested, created_at, updated_at, task_id)
            VALUES (\(new.id), \(new.tenantID.rawValue), \(new.kind), \(arguments)::jsonb, \(new.priority), 'queued',
                ap_ts(\(new.runAt.microsecondsSinceEpoch)), 0, 0, \(new.maxAttempts), \(new.backoff.strategy.rawValue),
                \(new.backoff.baseSeconds), \(new.backoff.capSeconds), \(dedupeKey),
                ap_ts(\(new.dedupeUntil?.microsecondsSinceEpoch)), \(new.concurrencyKey), \(new.concurrencyLimit),
                \(new.instanceID), false, ap_ts(\(new.createdAt.microsecondsSinceEpoch)),
                ap_ts(\(new.createdAt.microsecondsSinceEpoch)), \(new.taskID))
            ON CONFLICT (tenant_id, kind, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
            RETURNING id
            """,
            logger: logger
        ) {
            inserted = true
        }
        if !inserted, let key = dedupeKey {
            let rows = try await connection.guardedQuery(
                """
                SELECT \(unescaped: columns) FROM runs
                WHERE tenant_id = \(new.tenantID.rawValue) AND kind = \(new.kind) AND dedupe_key = \(key)
                """,
                logger: logger)
            for try await row in rows { return try run(row.makeRandomAccess()) }
            throw StoreError(.serializationFailure, "A dedupe key changed hands during the enqueue; retry.")
        }
        var request = new
        request.dedupeKey = dedupeKey
        request.dedupeWindowSeconds = dedupeKey == nil ? 0 : new.dedupeWindowSeconds
        let run = Run(
            request: request, status: .queued, attempt: 0, workerID: nil, leaseExpiresAt: nil, cancelRequested: false,
            result: nil, lastError: nil, updatedAt: new.createdAt, finishedAt: nil)
        _ = try await PostgresEventLog.append(
            [Events.run(.runQueued, run, at: new.createdAt)], tenant: new.tenantID, on: connection, logger: logger)
        return run
    }

    /// A held run's ending: its new state, how its attempt ended, and its event.
    struct Change {
        var current: Run
        var next: Run
        var outcome: AttemptOutcome
        var error: String?
        var event: EventType?
    }

    /// Applies the endings of held runs as one set: the runs, their attempts (a hand-back's attempt
    /// deleted) and the concurrency slots they give back in one statement (`jsonb_to_recordset`), then
    /// their events, one statement per tenant.
    static func apply(_ changes: [Change], now: Timestamp, on connection: PostgresConnection, logger: Logger)
        async throws
    {
        guard !changes.isEmpty else { return }
        var rows = JSONWriter(capacity: changes.count * 256)
        rows.beginArray()
        for change in changes {
            let next = change.next
            rows.element()
            rows.beginObject()
            rows.field("attempt", Int64(next.attempt))
            rows.field("attempt_base", Int64(next.attemptBase))
            rows.field("cancel_requested", next.cancelRequested)
            rows.field("error", change.error)
            rows.key("finished_at")
            if let finished = next.finishedAt { rows.int(finished.microsecondsSinceEpoch) } else { rows.value(.null) }
            rows.field("id", next.id.lowercasedString)
            rows.field("last_error", next.lastError)
            rows.field("number", Int64(change.current.attempt))
            rows.field("outcome", change.outcome.rawValue)
            rows.key("result")
            rows.value(next.result ?? .null)
            rows.field("run_at", next.request.runAt.microsecondsSinceEpoch)
            rows.field("status", next.status.rawValue)
            rows.endObject()
        }
        rows.endArray()
        var slots = JSONWriter()
        slots.beginArray()
        for change in changes where change.current.status == .running && change.next.status != .running {
            guard let key = change.current.request.concurrencyKey else { continue }
            slots.element()
            slots.beginObject()
            slots.field("key", key)
            slots.field("tenant_id", change.current.request.tenantID.description)
            slots.endObject()
        }
        slots.endArray()
        let changed = String(decoding: rows.bytes, as: UTF8.self)
        let freed = String(decoding: slots.bytes, as: UTF8.self)
        try await connection.guardedQuery(
            """
            WITH u AS (
                SELECT * FROM jsonb_to_recordset(\(changed)::jsonb) AS x(id uuid, status text, run_at bigint, attempt integer,
                    attempt_base integer, cancel_requested boolean, result jsonb, last_error text, finished_at bigint,
                    number integer, outcome text, error text)
            ),
            runs_changed AS (
                UPDATE runs r SET status = u.status, run_at = ap_ts(u.run_at), attempt = u.attempt,
                    attempt_base = u.attempt_base, worker_id = NULL, lease_expires_at = NULL,
                    cancel_requested = u.cancel_requested, result = u.result, last_error = u.last_error,
                    updated_at = ap_ts(\(now.microsecondsSinceEpoch)), finished_at = ap_ts(u.finished_at)
                FROM u WHERE r.id = u.id
            ),
            attempts_ended AS (
                UPDATE run_attempts a SET ended_at = ap_ts(\(now.microsecondsSinceEpoch)), outcome = u.outcome, error = u.error
                FROM u WHERE a.run_id = u.id AND a.number = u.number AND u.outcome <> 'handed_back'
            ),
            attempts_given_back AS (
                DELETE FROM run_attempts a USING u
                WHERE a.run_id = u.id AND a.number = u.number AND u.outcome = 'handed_back'
            ),
            slots AS (
                SELECT tenant_id, key, count(*)::integer AS n
                FROM jsonb_to_recordset(\(freed)::jsonb) AS s(tenant_id uuid, key text) GROUP BY tenant_id, key
            )
            UPDATE run_concurrency c SET running = GREATEST(c.running - slots.n, 0)
            FROM slots WHERE c.tenant_id = slots.tenant_id AND c.key = slots.key
            """,
            logger: logger)
        for (tenant, group) in Dictionary(grouping: changes, by: \.next.request.tenantID) {
            let events = group.compactMap { change in change.event.map { Events.run($0, change.next, at: now) } }
            _ = try await PostgresEventLog.append(events, tenant: tenant, on: connection, logger: logger)
        }
    }

    /// Writes a run's changing fields (a caller's cancel or replay: neither ends a `running` run, so no
    /// concurrency slot is given back here; a held run's ending goes through `apply`).
    static func save(_ run: Run, on connection: PostgresConnection, logger: Logger) async throws {
        let result = run.result?.jsonText
        try await connection.guardedQuery(
            """
            UPDATE runs SET status = \(run.status.rawValue), run_at = ap_ts(\(run.request.runAt.microsecondsSinceEpoch)),
                attempt = \(run.attempt), attempt_base = \(run.attemptBase), worker_id = \(run.workerID),
                lease_expires_at = ap_ts(\(run.leaseExpiresAt?.microsecondsSinceEpoch)),
                cancel_requested = \(run.cancelRequested), result = \(result)::jsonb, last_error = \(run.lastError),
                updated_at = ap_ts(\(run.updatedAt.microsecondsSinceEpoch)),
                finished_at = ap_ts(\(run.finishedAt?.microsecondsSinceEpoch))
            WHERE id = \(run.id)
            """,
            logger: logger)
    }

    static func run(_ row: PostgresRandomAccessRow) throws -> Run {
        guard let arguments = JSONValue(parsing: try row["arguments"].decode(String.self))?.objectValue,
            let status = RunStatus(rawValue: try row["status"].decode(String.self)),
            let strategy = BackoffStrategy(rawValue: try row["backoff_strategy"].decode(String.self))
        else { throw StoreError(.corruptData, "A stored run could not be decoded.") }
        let createdAt = Timestamp(microsecondsSinceEpoch: try row["created_at"].decode(Int64.self))
        let dedupeUntil = try row["dedupe_until"].decode(Int64?.self)
        let window = dedupeUntil.map { Int(($0 - createdAt.microsecondsSinceEpoch) / 1_000_000) } ?? 0
        let micros = { (name: String) throws -> Timestamp? in
            try row[name].decode(Int64?.self).map(Timestamp.init(microsecondsSinceEpoch:))
        }
        let request = NewRun(
            id: try row["id"].decode(UUID.self), kind: try row["kind"].decode(String.self),
            tenantID: TenantID(try row["tenant_id"].decode(UUID.self)), arguments: arguments,
            priority: try row["priority"].decode(Int.self),
            runAt: Timestamp(microsecondsSinceEpoch: try row["run_at"].decode(Int64.self)),
            maxAttempts: try row["max_attempts"].decode(Int.self),
            backoff: Backoff(
                strategy: strategy, baseSeconds: try row["backoff_base_seconds"].decode(Double.self),
                capSeconds: try row["backoff_cap_seconds"].decode(Double.self)),
            dedupeKey: try row["dedupe_key"].decode(String?.self), dedupeWindowSeconds: window,
            concurrencyKey: try row["concurrency_key"].decode(String?.self),
            concurrencyLimit: try row["concurrency_limit"].decode(Int.self),
            instanceID: try row["instance_id"].decode(UUID?.self), taskID: try row["task_id"].decode(UUID?.self),
            createdAt: createdAt)
        return Run(
            request: request, status: status, attempt: try row["attempt"].decode(Int.self),
            attemptBase: try row["attempt_base"].decode(Int.self), workerID: try row["worker_id"].decode(String?.self),
            leaseExpiresAt: try micros("lease_expires_at"),
            cancelRequested: try row["cancel_requested"].decode(Bool.self),
            result: try row["result"].decode(String?.self).flatMap(JSONValue.init(parsing:)),
            lastError: try row["last_error"].decode(String?.self),
            updatedAt: Timestamp(microsecondsSinceEpoch: try row["updated_at"].decode(Int64.self)),
            finishedAt: try micros("finished_at"))
    }
}
