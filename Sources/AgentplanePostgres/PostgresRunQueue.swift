import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import PostgresNIO

/// The job queue on PostgreSQL. A claim is one statement: the tenants with claimable runs (a skip
/// scan of the claimable index), each tenant's best runs locked with `FOR UPDATE SKIP LOCKED`, ranked
/// so that tenants take turns within a priority, concurrency slots taken by a conditional upsert of
/// `run_concurrency`, then `UPDATE … RETURNING`. Worker operations run platform-wide; reads and
/// changes by a caller run in its tenant (row-level security).
struct PostgresRunQueue: RunQueue {
    let client: PostgresClient
    let logger: Logger
    /// Called after a commit that may have made runs claimable: wakes this node's workers and sends one
    /// coalesced NOTIFY for the other nodes (never inside the transaction: DESIGN §8).
    let wake: @Sendable () -> Void

    static let columns = """
        id, tenant_id, kind, arguments::text AS arguments, priority, status, ap_micros(run_at) AS run_at, attempt,
        attempt_base, max_attempts, backoff_strategy, backoff_base_seconds, backoff_cap_seconds, dedupe_key,
        ap_micros(dedupe_until) AS dedupe_until, concurrency_key, concurrency_limit, instance_id, worker_id,
        ap_micros(lease_expires_at) AS lease_expires_at, cancel_requested, result::text AS result, last_error,
        ap_micros(created_at) AS created_at, ap_micros(updated_at) AS updated_at, ap_micros(finished_at) AS finished_at
        """

    func enqueue(_ runs: [NewRun]) async throws -> [Run] {
        guard let tenant = runs.first?.tenantID else { return [] }
        let scope: RowScope = runs.allSatisfy { $0.tenantID == tenant } ? .tenant(tenant) : .platformWide
        let stored = try await PostgresErrors.translating {
            try await client.withTenantTransaction(scope, logger: logger) { connection in
                try await Self.enqueueAll(runs, on: connection, logger: logger)
            }
        }
        wake()
        return stored
    }

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
                rows.field("tenant_id", run.tenantID.description)
                rows.endObject()
            }
            rows.endArray()
            let json = String(decoding: rows.bytes, as: UTF8.self)
            try await connection.query(
                """
                INSERT INTO runs (id, tenant_id, kind, arguments, priority, status, run_at, attempt, attempt_base,
                    max_attempts, backoff_strategy, backoff_base_seconds, backoff_cap_seconds, concurrency_key,
                    concurrency_limit, instance_id, cancel_requested, created_at, updated_at)
                SELECT id, tenant_id, kind, arguments, priority, 'queued', ap_ts(run_at), 0, 0, max_attempts,
                    backoff_strategy, backoff_base_seconds, backoff_cap_seconds, concurrency_key, concurrency_limit,
                    instance_id, false, ap_ts(created_at), ap_ts(created_at)
                FROM jsonb_to_recordset(\(json)::jsonb) AS x(id uuid, tenant_id uuid, kind text, arguments jsonb,
                    priority integer, run_at bigint, max_attempts integer, backoff_strategy text,
                    backoff_base_seconds double precision, backoff_cap_seconds double precision, concurrency_key text,
                    concurrency_limit integer, instance_id uuid, created_at bigint)
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
            try await connection.query(
                """
                UPDATE runs SET dedupe_key = NULL
                WHERE tenant_id = \(new.tenantID.rawValue) AND kind = \(new.kind) AND dedupe_key = \(key)
                    AND dedupe_until <= ap_ts(\(new.createdAt.microsecondsSinceEpoch))
                """,
                logger: logger)
        }
        let arguments = JSONValue.object(new.arguments).jsonText
        var inserted = false
        for try await _ in try await connection.query(
            """
            INSERT INTO runs (id, tenant_id, kind, arguments, priority, status, run_at, attempt, attempt_base,
                max_attempts, backoff_strategy, backoff_base_seconds, backoff_cap_seconds, dedupe_key, dedupe_until,
                concurrency_key, concurrency_limit, instance_id, cancel_requested, created_at, updated_at)
            VALUES (\(new.id), \(new.tenantID.rawValue), \(new.kind), \(arguments)::jsonb, \(new.priority), 'queued',
                ap_ts(\(new.runAt.microsecondsSinceEpoch)), 0, 0, \(new.maxAttempts), \(new.backoff.strategy.rawValue),
                \(new.backoff.baseSeconds), \(new.backoff.capSeconds), \(dedupeKey),
                ap_ts(\(new.dedupeUntil?.microsecondsSinceEpoch)), \(new.concurrencyKey), \(new.concurrencyLimit),
                \(new.instanceID), false, ap_ts(\(new.createdAt.microsecondsSinceEpoch)),
                ap_ts(\(new.createdAt.microsecondsSinceEpoch)))
            ON CONFLICT (tenant_id, kind, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
            RETURNING id
            """,
            logger: logger
        ) {
            inserted = true
        }
        if !inserted, let key = dedupeKey {
            let rows = try await connection.query(
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

    func claim(_ request: ClaimRequest) async throws -> [Run] {
        guard request.limit > 0 else { return [] }
        let kinds = request.kinds.map { Array($0).sorted() }
        let now = request.now.microsecondsSinceEpoch
        let leaseUntil = now + request.leaseMicroseconds
        return try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    WITH RECURSIVE ready(tenant) AS (
                        (SELECT tenant_id FROM runs WHERE status IN ('queued', 'failed') ORDER BY tenant_id LIMIT 1)
                        UNION ALL
                        SELECT (SELECT r.tenant_id FROM runs r WHERE r.status IN ('queued', 'failed')
                            AND r.tenant_id > ready.tenant ORDER BY r.tenant_id LIMIT 1)
                        FROM ready WHERE ready.tenant IS NOT NULL
                    ),
                    candidates AS (
                        SELECT c.* FROM ready CROSS JOIN LATERAL (
                            SELECT r.id, r.tenant_id, r.priority, r.run_at, r.concurrency_key, r.concurrency_limit
                            FROM runs r
                            WHERE r.tenant_id = ready.tenant AND r.status IN ('queued', 'failed')
                                AND r.run_at <= ap_ts(\(now)) AND (\(kinds)::text[] IS NULL OR r.kind = ANY(\(kinds)))
                            ORDER BY r.priority, r.run_at, r.id
                            LIMIT \(request.limit)
                            FOR UPDATE SKIP LOCKED
                        ) c
                        WHERE ready.tenant IS NOT NULL
                    ),
                    picked AS (
                        SELECT *, row_number() OVER (PARTITION BY tenant_id, concurrency_key ORDER BY priority, run_at, id)
                            AS key_turn
                        FROM (
                            SELECT * FROM candidates
                            ORDER BY priority,
                                row_number() OVER (PARTITION BY tenant_id, priority ORDER BY run_at, id), run_at, id
                            LIMIT \(request.limit)
                        ) fair
                    ),
                    wanted AS (
                        SELECT tenant_id, concurrency_key AS key, count(*)::integer AS n, min(concurrency_limit) AS lim
                        FROM picked WHERE concurrency_key IS NOT NULL GROUP BY tenant_id, concurrency_key
                    ),
                    grants AS (
                        INSERT INTO run_concurrency AS rc (tenant_id, key, running, granted, limit_seen)
                        SELECT tenant_id, key, LEAST(n, lim), LEAST(n, lim), lim FROM wanted
                        ON CONFLICT (tenant_id, key) DO UPDATE SET
                            granted = GREATEST(LEAST(excluded.granted, excluded.limit_seen - rc.running), 0),
                            running = rc.running + GREATEST(LEAST(excluded.granted, excluded.limit_seen - rc.running), 0),
                            limit_seen = excluded.limit_seen
                        RETURNING tenant_id, key, granted
                    ),
                    chosen AS (
                        SELECT p.id FROM picked p
                        LEFT JOIN grants g ON g.tenant_id = p.tenant_id AND g.key = p.concurrency_key
                        WHERE p.concurrency_key IS NULL OR p.key_turn <= g.granted
                    ),
                    claimed AS (
                        UPDATE runs SET status = 'running', attempt = runs.attempt + 1, worker_id = \(request.workerID),
                            lease_expires_at = ap_ts(\(leaseUntil)), updated_at = ap_ts(\(now))
                        FROM chosen WHERE runs.id = chosen.id
                        RETURNING runs.*
                    ),
                    attempts AS (
                        INSERT INTO run_attempts (run_id, tenant_id, number, worker_id, started_at, outcome)
                        SELECT id, tenant_id, attempt, worker_id, updated_at, 'running' FROM claimed
                    )
                    SELECT \(unescaped: Self.columns) FROM claimed
                    """,
                    logger: logger)
                var claimed: [Run] = []
                for try await row in rows { claimed.append(try Self.run(row.makeRandomAccess())) }
                for (tenant, runs) in Dictionary(grouping: claimed, by: \.request.tenantID) {
                    _ = try await PostgresEventLog.append(
                        runs.map { Events.run(.runStarted, $0, at: request.now) }, tenant: tenant, on: connection,
                        logger: logger)
                }
                return claimed.sorted {
                    ($0.request.priority, $0.request.runAt) < ($1.request.priority, $1.request.runAt)
                }
            }
        }
    }

    func heartbeat(worker: String, ids: [UUID], leaseUntil: Timestamp, now: Timestamp) async throws -> [UUID: Bool] {
        guard !ids.isEmpty else { return [:] }
        return try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    UPDATE runs SET lease_expires_at = ap_ts(\(leaseUntil.microsecondsSinceEpoch)),
                        updated_at = ap_ts(\(now.microsecondsSinceEpoch))
                    WHERE id = ANY(\(ids)) AND status = 'running' AND worker_id = \(worker)
                    RETURNING id, cancel_requested
                    """,
                    logger: logger)
                var held: [UUID: Bool] = [:]
                for try await (id, cancel) in rows.decode((UUID, Bool).self) { held[id] = cancel }
                return held
            }
        }
    }

    func complete(worker: String, _ completions: [UUID: RunCompletion], now: Timestamp) async throws -> Set<UUID> {
        guard !completions.isEmpty else { return [] }
        let (applied, requeued) = try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM runs
                    WHERE id = ANY(\(Array(completions.keys))) AND status = 'running' AND worker_id = \(worker)
                    ORDER BY id FOR UPDATE
                    """,
                    logger: logger)
                var held: [Run] = []
                for try await row in rows { held.append(try Self.run(row.makeRandomAccess())) }
                var changes: [Change] = []
                for current in held {
                    guard let completion = completions[current.id] else { continue }
                    let (next, outcome, event) = RunDecisions.complete(current, with: completion, now: now)
                    changes.append(
                        Change(current: current, next: next, outcome: outcome, error: next.lastError, event: event))
                }
                try await Self.apply(changes, now: now, on: connection, logger: logger)
                let requeued = changes.contains {
                    $0.next.status.isClaimable || $0.current.request.concurrencyKey != nil
                }
                return (Set(held.map(\.id)), requeued)
            }
        }
        if requeued { wake() }
        return applied
    }

    func rescueExpired(now: Timestamp) async throws -> Int {
        let rescued = try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM runs
                    WHERE status = 'running' AND lease_expires_at < ap_ts(\(now.microsecondsSinceEpoch))
                    ORDER BY id FOR UPDATE SKIP LOCKED
                    """,
                    logger: logger)
                var expired: [Run] = []
                for try await row in rows { expired.append(try Self.run(row.makeRandomAccess())) }
                let changes = expired.map { current in
                    let (next, event) = RunDecisions.rescue(current, now: now)
                    return Change(
                        current: current, next: next, outcome: current.cancelRequested ? .cancelled : .lost,
                        error: "lease expired (worker \(current.workerID ?? "?") stopped heartbeating)", event: event)
                }
                try await Self.apply(changes, now: now, on: connection, logger: logger)
                return expired.count
            }
        }
        if rescued > 0 { wake() }
        return rescued
    }

    func cancel(tenant: TenantID, id: UUID, now: Timestamp, record: ChangeRecord) async throws -> Run {
        try await change(tenant: tenant, id: id, record: record) { try RunDecisions.cancel($0, now: now) }
    }

    func replay(tenant: TenantID, id: UUID, now: Timestamp, record: ChangeRecord) async throws -> Run {
        try await change(tenant: tenant, id: id, record: record) { try RunDecisions.replay($0, now: now) }
    }

    private func change(
        tenant: TenantID, id: UUID, record: ChangeRecord,
        _ decide: @escaping @Sendable (Run) throws -> (Run, EventType?)
    ) async throws -> Run {
        let changed = try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(tenant), logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM runs WHERE tenant_id = \(tenant.rawValue) AND id = \(id)
                    FOR UPDATE
                    """,
                    logger: logger)
                var found: Run?
                for try await row in rows { found = try Self.run(row.makeRandomAccess()) }
                guard let current = found else { throw StoreError(.notFound, "No such run.") }
                let (next, event) = try decide(current)
                try await Self.save(next, releasing: nil, on: connection, logger: logger)
                var record = record
                if let event { record.events.append(Events.run(event, next, at: next.updatedAt)) }
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
                return next
            }
        }
        if changed.status.isClaimable { wake() }
        return changed
    }

    func find(tenant: TenantID, id: UUID) async throws -> Run? {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(id)
        return try await PostgresErrors.translating {
            try await client.withScopedRead(
                .tenant(tenant), sql: "SELECT \(Self.columns) FROM runs WHERE tenant_id = $1 AND id = $2",
                binds: binds, logger: logger
            ) { rows in
                for try await row in rows { return try Self.run(row.makeRandomAccess()) }
                return nil
            }
        }
    }

    func attempts(tenant: TenantID, id: UUID) async throws -> [RunAttempt] {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(id)
        return try await PostgresErrors.translating {
            try await client.withScopedRead(
                .tenant(tenant),
                sql: """
                    SELECT number, worker_id, ap_micros(started_at) AS started_at, ap_micros(ended_at) AS ended_at,
                        outcome, error
                    FROM run_attempts WHERE tenant_id = $1 AND run_id = $2 ORDER BY number
                    """,
                binds: binds, logger: logger
            ) { rows in
                var attempts: [RunAttempt] = []
                for try await (number, worker, started, ended, outcome, error) in rows.decode(
                    (Int, String, Int64, Int64?, String, String?).self)
                {
                    guard let outcome = AttemptOutcome(rawValue: outcome) else {
                        throw StoreError(.corruptData, "A stored run attempt could not be decoded.")
                    }
                    attempts.append(
                        RunAttempt(
                            number: number, workerID: worker, startedAt: Timestamp(microsecondsSinceEpoch: started),
                            endedAt: ended.map(Timestamp.init(microsecondsSinceEpoch:)), outcome: outcome, error: error)
                    )
                }
                return attempts
            }
        }
    }

    func list(tenant: TenantID, query: RunQuery) async throws -> [Run] {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(query.kind)
        binds.append(query.status?.rawValue)
        binds.append(query.instanceID)
        binds.append(query.createdFrom?.microsecondsSinceEpoch)
        binds.append(query.createdBefore?.microsecondsSinceEpoch)
        binds.append(query.before)
        binds.append(query.limit)
        let sql = """
            SELECT \(Self.columns) FROM runs
            WHERE tenant_id = $1 AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR status = $3)
                AND ($4::uuid IS NULL OR instance_id = $4) AND ($5::bigint IS NULL OR created_at >= ap_ts($5))
                AND ($6::bigint IS NULL OR created_at < ap_ts($6)) AND ($7::uuid IS NULL OR id < $7)
            ORDER BY id DESC LIMIT $8
            """
        return try await PostgresErrors.translating {
            try await client.withScopedRead(.tenant(tenant), sql: sql, binds: binds, logger: logger) { rows in
                var runs: [Run] = []
                for try await row in rows { runs.append(try Self.run(row.makeRandomAccess())) }
                return runs
            }
        }
    }

    func depth() async throws -> [RunDepth] {
        try await PostgresErrors.translating {
            try await client.withScopedRead(
                .platformWide,
                sql: """
                    SELECT kind, status, count(*)::bigint AS n, ap_micros(min(run_at)) AS oldest FROM runs
                    WHERE status IN ('queued', 'running', 'failed', 'dead') GROUP BY kind, status
                    """,
                binds: PostgresBindings(), logger: logger
            ) { rows in
                var depth: [RunDepth] = []
                for try await (kind, status, count, oldest) in rows.decode((String, String, Int64, Int64?).self) {
                    guard let status = RunStatus(rawValue: status) else { continue }
                    depth.append(
                        RunDepth(
                            kind: kind, status: status, count: Int(count),
                            oldestRunAt: oldest.map(Timestamp.init(microsecondsSinceEpoch:))))
                }
                return depth
            }
        }
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
        try await connection.query(
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

    /// Writes a run's changing fields; a run leaving `running` gives its concurrency slot back.
    static func save(_ run: Run, releasing held: Run?, on connection: PostgresConnection, logger: Logger) async throws {
        let result = run.result?.jsonText
        try await connection.query(
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
        if let held, held.status == .running, run.status != .running, let key = held.request.concurrencyKey {
            try await connection.query(
                """
                UPDATE run_concurrency SET running = GREATEST(running - 1, 0)
                WHERE tenant_id = \(held.request.tenantID.rawValue) AND key = \(key)
                """,
                logger: logger)
        }
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
            instanceID: try row["instance_id"].decode(UUID?.self), createdAt: createdAt)
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
