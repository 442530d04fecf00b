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
                var stored: [Run] = []
                for run in runs { stored.append(try await Self.enqueue(run, on: connection, logger: logger)) }
                return stored
            }
        }
        wake()
        return stored
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
                var requeued = false
                for current in held {
                    guard let completion = completions[current.id] else { continue }
                    let (next, outcome, event) = RunDecisions.complete(current, with: completion, now: now)
                    try await Self.save(next, releasing: current, on: connection, logger: logger)
                    try await Self.endAttempt(
                        of: next, number: current.attempt, outcome: outcome, error: next.lastError, at: now,
                        on: connection, logger: logger)
                    if let event {
                        _ = try await PostgresEventLog.append(
                            [Events.run(event, next, at: now)], tenant: next.request.tenantID, on: connection,
                            logger: logger)
                    }
                    if next.status.isClaimable || current.request.concurrencyKey != nil { requeued = true }
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
                for current in expired {
                    let (next, event) = RunDecisions.rescue(current, now: now)
                    try await Self.save(next, releasing: current, on: connection, logger: logger)
                    try await Self.endAttempt(
                        of: next, number: current.attempt, outcome: current.cancelRequested ? .cancelled : .lost,
                        error: "lease expired (worker \(current.workerID ?? "?") stopped heartbeating)", at: now,
                        on: connection, logger: logger)
                    _ = try await PostgresEventLog.append(
                        [Events.run(event, next, at: now)], tenant: next.request.tenantID, on: connection,
                        logger: logger)
                }
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

    /// Closes attempt `number` (a hand-back deletes it: it did not count).
    static func endAttempt(
        of run: Run, number: Int, outcome: AttemptOutcome, error: String?, at time: Timestamp,
        on connection: PostgresConnection, logger: Logger
    ) async throws {
        if outcome == .handedBack {
            try await connection.query(
                "DELETE FROM run_attempts WHERE run_id = \(run.id) AND number = \(number)", logger: logger)
            return
        }
        try await connection.query(
            """
            UPDATE run_attempts SET ended_at = ap_ts(\(time.microsecondsSinceEpoch)), outcome = \(outcome.rawValue),
                error = \(error)
            WHERE run_id = \(run.id) AND number = \(number)
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
