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
    /// Called after a commit that may have made runs claimable: wakes this node's workers. (Other
    /// nodes find the runs by their poll; a NOTIFY after commit, with a LISTEN on a dedicated connection,
    /// is the next step: a LISTEN on a pooled connection kept the pool from shutting down.)
    let wake: @Sendable () -> Void

    static let columns = """
        id, tenant_id, kind, arguments::text AS arguments, priority, status, ap_micros(run_at) AS run_at, attempt,
        attempt_base, max_attempts, backoff_strategy, backoff_base_seconds, backoff_cap_seconds, dedupe_key,
        ap_micros(dedupe_until) AS dedupe_until, concurrency_key, concurrency_limit, instance_id, worker_id,
        ap_micros(lease_expires_at) AS lease_expires_at, cancel_requested, result::text AS result, last_error,
        ap_micros(created_at) AS created_at, ap_micros(updated_at) AS updated_at, ap_micros(finished_at) AS finished_at,
        task_id
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

    func claim(_ request: ClaimRequest) async throws -> [Run] {
        guard request.limit > 0 else { return [] }
        return try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                try await Self.claim(request, on: connection, logger: logger)
            }
        }
    }

    func completeAndClaim(_ completions: [UUID: RunCompletion], _ request: ClaimRequest) async throws -> (
        applied: Set<UUID>, claimed: [Run]
    ) {
        guard !completions.isEmpty || request.limit > 0 else { return ([], []) }
        let (applied, requeued, claimed) = try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                let (applied, requeued) = try await Self.complete(
                    worker: request.workerID, completions, now: request.now, on: connection, logger: logger)
                let claimed =
                    request.limit > 0 ? try await Self.claim(request, on: connection, logger: logger) : []
                return (applied, requeued, claimed)
            }
        }
        if requeued { wake() }
        return (applied, claimed)
    }

    /// Claims inside the caller's (platform-wide) transaction.
    static func claim(_ request: ClaimRequest, on connection: PostgresConnection, logger: Logger) async throws -> [Run]
    {
        guard request.limit > 0 else { return [] }
        let kinds = request.kinds.map { Array($0).sorted() }
        let now = request.now.microsecondsSinceEpoch
        let leaseUntil = now + request.leaseMicroseconds
        let rows = try await connection.guardedQuery(
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

    func heartbeat(worker: String, ids: [UUID], leaseUntil: Timestamp, now: Timestamp) async throws -> [UUID: Bool] {
        guard !ids.isEmpty else { return [:] }
        return try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                let rows = try await connection.guardedQuery(
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
                try await Self.complete(worker: worker, completions, now: now, on: connection, logger: logger)
            }
        }
        if requeued { wake() }
        return applied
    }

    /// Applies completions inside the caller's (platform-wide) transaction: the ids applied, and
    /// whether a run became claimable (a retry, or a concurrency slot given back).
    static func complete(
        worker: String, _ completions: [UUID: RunCompletion], now: Timestamp, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> (applied: Set<UUID>, requeued: Bool) {
        guard !completions.isEmpty else { return ([], false) }
        let rows = try await connection.guardedQuery(
            """
            SELECT \(unescaped: columns) FROM runs
            WHERE id = ANY(\(Array(completions.keys))) AND status = 'running' AND worker_id = \(worker)
            ORDER BY id FOR UPDATE
            """,
            logger: logger)
        var held: [Run] = []
        for try await row in rows { held.append(try run(row.makeRandomAccess())) }
        var changes: [Change] = []
        for current in held {
            guard let completion = completions[current.id] else { continue }
            let (next, outcome, event) = RunDecisions.complete(current, with: completion, now: now)
            changes.append(Change(current: current, next: next, outcome: outcome, error: next.lastError, event: event))
        }
        try await apply(changes, now: now, on: connection, logger: logger)
        let requeued = changes.contains { $0.next.status.isClaimable || $0.current.request.concurrencyKey != nil }
        return (Set(held.map(\.id)), requeued)
    }

    func rescueExpired(now: Timestamp) async throws -> [Run] {
        let rescued = try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                let rows = try await connection.guardedQuery(
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
                return changes.map(\.next)
            }
        }
        if !rescued.isEmpty { wake() }
        return rescued
    }

    func purge(_ retention: RunRetention, now: Timestamp, limit: Int) async throws -> Int {
        let (ended, dead) = retention.cutoffs(now: now)
        let health = retention.healthCutoff(now: now)
        return try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                // The first branch is served by the partial index `runs_health_finished` (`Migration.healthRunRetention`).
                let rows = try await connection.guardedQuery(
                    """
                    WITH doomed AS (
                        (SELECT id FROM runs
                         WHERE \(unescaped: RunRetention.healthRunsPredicate)
                           AND finished_at < ap_ts(\(health.microsecondsSinceEpoch))
                         LIMIT \(limit))
                        UNION
                        (SELECT id FROM runs
                         WHERE (status IN ('succeeded', 'cancelled') AND finished_at < ap_ts(\(ended.microsecondsSinceEpoch)))
                            OR (status = 'dead' AND finished_at < ap_ts(\(dead.microsecondsSinceEpoch)))
                         LIMIT \(limit))
                    ), attempts AS (
                        DELETE FROM run_attempts WHERE run_id IN (SELECT id FROM doomed)
                    ), steps AS (
                        DELETE FROM run_steps WHERE run_id IN (SELECT id FROM doomed)
                    )
                    DELETE FROM runs WHERE id IN (SELECT id FROM doomed) RETURNING id
                    """,
                    logger: logger)
                var count = 0
                for try await _ in rows { count += 1 }
                return count
            }
        }
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
                let rows = try await connection.guardedQuery(
                    """
                    SELECT \(unescaped: Self.columns) FROM runs WHERE tenant_id = \(tenant.rawValue) AND id = \(id)
                    FOR UPDATE
                    """,
                    logger: logger)
                var found: Run?
                for try await row in rows { found = try Self.run(row.makeRandomAccess()) }
                guard let current = found else { throw StoreError(.notFound, "No such run.") }
                let (next, event) = try decide(current)
                try await Self.save(next, on: connection, logger: logger)
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
        binds.append(query.taskID)
        let sql = """
            SELECT \(Self.columns) FROM runs
            WHERE tenant_id = $1 AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR status = $3)
                AND ($4::uuid IS NULL OR instance_id = $4) AND ($5::bigint IS NULL OR created_at >= ap_ts($5))
                AND ($6::bigint IS NULL OR created_at < ap_ts($6)) AND ($7::uuid IS NULL OR id < $7)
                AND ($9::uuid IS NULL OR task_id = $9)
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

}
