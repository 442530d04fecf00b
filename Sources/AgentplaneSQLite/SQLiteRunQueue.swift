import AgentplaneCore
import AgentplaneStore
import Foundation
import GRDB

/// The job queue on SQLite: every operation is one write transaction, and the single writer makes a
/// claim exact without row locks (no two claims interleave).
struct SQLiteRunQueue: RunQueue {
    let pool: DatabasePool

    func enqueue(_ runs: [NewRun]) async throws -> [Run] {
        try await SQLiteErrors.translating {
            try await pool.write { db in try runs.map { try Self.enqueue($0, in: db) } }
        }
    }

    /// Inserts `new` inside the caller's transaction, with its `run.queued` event; a live dedupe
    /// holder is returned instead. Stale holders (window passed) give up the key first.
    @discardableResult
    static func enqueue(_ new: NewRun, in db: Database) throws -> Run {
        let errors = new.errors()
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        if let key = new.dedupeKey {
            if let holder = try Row.fetchOne(
                try db.cachedStatement(
                    sql: "SELECT \(columns) FROM runs WHERE tenant_id = ? AND kind = ? AND dedupe_key = ?"),
                arguments: [new.tenantID.description, new.kind, key]
            ).map(run) {
                if let until = holder.request.dedupeUntil, until > new.createdAt { return holder }
                try db.cachedStatement(sql: "UPDATE runs SET dedupe_key = NULL WHERE id = ?").execute(
                    arguments: [holder.id.lowercasedString])
            }
        }
        // A key without a window dedupes nothing: it is not stored.
        let dedupeKey = new.dedupeUntil == nil ? nil : new.dedupeKey
        try db.cachedStatement(
            sql: """
                INSERT INTO runs (id, tenant_id, kind, arguments, priority, status, run_at, attempt, attempt_base, max_attempts,
                    backoff_strategy, backoff_base_seconds, backoff_cap_seconds, dedupe_key, dedupe_until,
                    concurrency_key, concurrency_limit, instance_id, worker_id, lease_expires_at, cancel_requested,
                    result, last_error, created_at, updated_at, finished_at, task_id)
                VALUES (?, ?, ?, ?, ?, 'queued', ?, 0, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, 0, NULL, NULL, ?, ?, NULL, ?)
                """
        ).execute(arguments: [
            new.id.lowercasedString, new.tenantID.description, new.kind, JSONValue.object(new.arguments).jsonText,
            new.priority, new.runAt.microsecondsSinceEpoch, new.maxAttempts, new.backoff.strategy.rawValue,
            new.backoff.baseSeconds, new.backoff.capSeconds, dedupeKey, new.dedupeUntil?.microsecondsSinceEpoch,
            new.concurrencyKey, new.concurrencyLimit, new.instanceID?.lowercasedString,
            new.createdAt.microsecondsSinceEpoch, new.createdAt.microsecondsSinceEpoch, new.taskID?.lowercasedString,
        ])
        let run = Run(
            request: NewRun(
                id: new.id, kind: new.kind, tenantID: new.tenantID, arguments: new.arguments, priority: new.priority,
                runAt: new.runAt, maxAttempts: new.maxAttempts, backoff: new.backoff, dedupeKey: dedupeKey,
                dedupeWindowSeconds: dedupeKey == nil ? 0 : new.dedupeWindowSeconds,
                concurrencyKey: new.concurrencyKey, concurrencyLimit: new.concurrencyLimit,
                instanceID: new.instanceID, taskID: new.taskID, createdAt: new.createdAt),
            status: .queued, attempt: 0, workerID: nil, leaseExpiresAt: nil, cancelRequested: false, result: nil,
            lastError: nil, updatedAt: new.createdAt, finishedAt: nil)
        _ = try SQLiteEventLog.append([Events.run(.runQueued, run, at: new.createdAt)], tenant: new.tenantID, in: db)
        return run
    }

    func claim(_ request: ClaimRequest) async throws -> [Run] {
        guard request.limit > 0 else { return [] }
        return try await SQLiteErrors.translating {
            try await pool.write { db in try Self.claim(request, in: db) }
        }
    }

    func heartbeat(worker: String, ids: [UUID], leaseUntil: Timestamp, now: Timestamp) async throws -> [UUID: Bool] {
        guard !ids.isEmpty else { return [:] }
        return try await SQLiteErrors.translating {
            try await pool.write { db in
                var held: [UUID: Bool] = [:]
                for id in ids {
                    let cancel = try Bool.fetchOne(
                        try db.cachedStatement(
                            sql: """
                                UPDATE runs SET lease_expires_at = ?, updated_at = ?
                                WHERE id = ? AND status = 'running' AND worker_id = ?
                                RETURNING cancel_requested
                                """),
                        arguments: [
                            leaseUntil.microsecondsSinceEpoch, now.microsecondsSinceEpoch, id.lowercasedString, worker,
                        ])
                    if let cancel { held[id] = cancel }
                }
                return held
            }
        }
    }

    func complete(worker: String, _ completions: [UUID: RunCompletion], now: Timestamp) async throws -> Set<UUID> {
        guard !completions.isEmpty else { return [] }
        return try await SQLiteErrors.translating {
            try await pool.write { db in try Self.complete(worker: worker, completions, now: now, in: db) }
        }
    }

    func completeAndClaim(_ completions: [UUID: RunCompletion], _ request: ClaimRequest) async throws -> (
        applied: Set<UUID>, claimed: [Run]
    ) {
        guard !completions.isEmpty || request.limit > 0 else { return ([], []) }
        return try await SQLiteErrors.translating {
            try await pool.write { db in
                let applied = try Self.complete(worker: request.workerID, completions, now: request.now, in: db)
                return (applied, request.limit > 0 ? try Self.claim(request, in: db) : [])
            }
        }
    }

    /// Applies completions of runs `worker` still holds, inside the caller's transaction.
    static func complete(worker: String, _ completions: [UUID: RunCompletion], now: Timestamp, in db: Database) throws
        -> Set<UUID>
    {
        var applied: Set<UUID> = []
        var events: [TenantID: [NewEvent]] = [:]
        for (id, completion) in completions {
            guard
                let current = try Row.fetchOne(
                    try db.cachedStatement(
                        sql:
                            "SELECT \(Self.columns) FROM runs WHERE id = ? AND status = 'running' AND worker_id = ?"
                    ),
                    arguments: [id.lowercasedString, worker]
                ).map(Self.run)
            else { continue }
            let (next, outcome, event) = RunDecisions.complete(current, with: completion, now: now)
            try Self.save(next, in: db)
            try Self.endAttempt(
                of: next, number: current.attempt, outcome: outcome, error: next.lastError, at: now, in: db)
            if let event { events[next.request.tenantID, default: []].append(Events.run(event, next, at: now)) }
            applied.insert(id)
        }
        // One append per tenant (one sequence step for the batch).
        for (tenant, events) in events { _ = try SQLiteEventLog.append(events, tenant: tenant, in: db) }
        return applied
    }

    func rescueExpired(now: Timestamp) async throws -> [Run] {
        return try await SQLiteErrors.translating {
            try await pool.write { db in
                let expired = try Row.fetchAll(
                    try db.cachedStatement(
                        sql: """
                            SELECT \(Self.columns) FROM runs INDEXED BY runs_leases
                            WHERE status = 'running' AND lease_expires_at < ?
                            """),
                    arguments: [now.microsecondsSinceEpoch]
                ).map(Self.run)
                var rescued: [Run] = []
                for current in expired {
                    let (next, event) = RunDecisions.rescue(current, now: now)
                    rescued.append(next)
                    try Self.save(next, in: db)
                    try Self.endAttempt(
                        of: next, number: current.attempt, outcome: current.cancelRequested ? .cancelled : .lost,
                        error: "lease expired (worker \(current.workerID ?? "?") stopped heartbeating)", at: now,
                        in: db)
                    _ = try SQLiteEventLog.append(
                        [Events.run(event, next, at: now)], tenant: next.request.tenantID, in: db)
                }
                return rescued
            }
        }
    }

    func purge(_ retention: RunRetention, now: Timestamp, limit: Int) async throws -> Int {
        let (ended, dead) = retention.cutoffs(now: now)
        let health = retention.healthCutoff(now: now)
        return try await SQLiteErrors.translating {
            try await pool.write { db in
                let monitoring = try String.fetchAll(
                    try db.cachedStatement(
                        sql: """
                            SELECT id FROM runs INDEXED BY runs_health_finished
                            WHERE \(RunRetention.healthRunsPredicate) AND finished_at IS NOT NULL AND finished_at < ?
                            LIMIT ?
                            """),
                    arguments: [health.microsecondsSinceEpoch, limit])
                let others = try String.fetchAll(
                    try db.cachedStatement(
                        sql: """
                            SELECT id FROM runs INDEXED BY runs_finished
                            WHERE (status IN ('succeeded', 'cancelled') AND finished_at IS NOT NULL AND finished_at < ?)
                               OR (status = 'dead' AND finished_at IS NOT NULL AND finished_at < ?)
                            LIMIT ?
                            """),
                    arguments: [ended.microsecondsSinceEpoch, dead.microsecondsSinceEpoch, limit])
                let ids = Array(Set(monitoring + others))
                for id in ids {
                    try db.cachedStatement(sql: "DELETE FROM run_attempts WHERE run_id = ?").execute(arguments: [id])
                    try db.cachedStatement(sql: "DELETE FROM run_steps WHERE run_id = ?").execute(arguments: [id])
                    try db.cachedStatement(sql: "DELETE FROM runs WHERE id = ?").execute(arguments: [id])
                }
                return ids.count
            }
        }
    }

    func cancel(tenant: TenantID, id: UUID, now: Timestamp, record: ChangeRecord) async throws -> Run {
        try await change(tenant: tenant, id: id, record: record) { current in
            try RunDecisions.cancel(current, now: now)
        }
    }

    func replay(tenant: TenantID, id: UUID, now: Timestamp, record: ChangeRecord) async throws -> Run {
        try await change(tenant: tenant, id: id, record: record) { current in
            try RunDecisions.replay(current, now: now)
        }
    }

    /// Reads the run, asks `decide`, saves the result with its event and the record.
    private func change(
        tenant: TenantID, id: UUID, record: ChangeRecord,
        _ decide: @escaping @Sendable (Run) throws -> (Run, EventType?)
    ) async throws -> Run {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                guard
                    let current = try Row.fetchOne(
                        try db.cachedStatement(sql: "SELECT \(Self.columns) FROM runs WHERE tenant_id = ? AND id = ?"),
                        arguments: [tenant.description, id.lowercasedString]
                    ).map(Self.run)
                else { throw StoreError(.notFound, "No such run.") }
                let (next, event) = try decide(current)
                try Self.save(next, in: db)
                var record = record
                if let event { record.events.append(Events.run(event, next, at: next.updatedAt)) }
                try SQLiteChangeRecorder.record(record, in: db)
                return next
            }
        }
    }

    func find(tenant: TenantID, id: UUID) async throws -> Run? {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchOne(
                    try db.cachedStatement(sql: "SELECT \(Self.columns) FROM runs WHERE tenant_id = ? AND id = ?"),
                    arguments: [tenant.description, id.lowercasedString]
                ).map(Self.run)
            }
        }
    }

    func attempts(tenant: TenantID, id: UUID) async throws -> [RunAttempt] {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchAll(
                    try db.cachedStatement(
                        sql: """
                            SELECT number, worker_id, started_at, ended_at, outcome, error FROM run_attempts
                            WHERE tenant_id = ? AND run_id = ? ORDER BY number
                            """),
                    arguments: [tenant.description, id.lowercasedString]
                ).map { row in
                    guard let outcome = AttemptOutcome(rawValue: row[4]) else {
                        throw StoreError(.corruptData, "A stored run attempt could not be decoded.")
                    }
                    return RunAttempt(
                        number: row[0], workerID: row[1], startedAt: Timestamp(microsecondsSinceEpoch: row[2]),
                        endedAt: (row[3] as Int64?).map(Timestamp.init(microsecondsSinceEpoch:)), outcome: outcome,
                        error: row[5])
                }
            }
        }
    }

    func list(tenant: TenantID, query: RunQuery) async throws -> [Run] {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                var sql = "SELECT \(Self.columns) FROM runs WHERE tenant_id = ?"
                var arguments: StatementArguments = [tenant.description]
                if let kind = query.kind {
                    sql += " AND kind = ?"
                    arguments += [kind]
                }
                if let status = query.status {
                    sql += " AND status = ?"
                    arguments += [status.rawValue]
                }
                if let instance = query.instanceID {
                    sql += " AND instance_id = ?"
                    arguments += [instance.lowercasedString]
                }
                if let task = query.taskID {
                    sql += " AND task_id = ?"
                    arguments += [task.lowercasedString]
                }
                if let from = query.createdFrom {
                    sql += " AND created_at >= ?"
                    arguments += [from.microsecondsSinceEpoch]
                }
                if let before = query.createdBefore {
                    sql += " AND created_at < ?"
                    arguments += [before.microsecondsSinceEpoch]
                }
                if let cursor = query.before {
                    sql += " AND id < ?"
                    arguments += [cursor.lowercasedString]
                }
                sql += " ORDER BY id DESC LIMIT ?"
                arguments += [query.limit]
                return try Row.fetchAll(try db.cachedStatement(sql: sql), arguments: arguments).map(Self.run)
            }
        }
    }

    func depth() async throws -> [RunDepth] {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchAll(
                    try db.cachedStatement(
                        sql: """
                            SELECT kind, status, count(*), min(run_at) FROM runs
                            WHERE status IN ('queued', 'running', 'failed', 'dead') GROUP BY kind, status
                            """)
                ).compactMap { row in
                    guard let status = RunStatus(rawValue: row[1]) else { return nil }
                    return RunDepth(
                        kind: row[0], status: status, count: row[2],
                        oldestRunAt: (row[3] as Int64?).map(Timestamp.init(microsecondsSinceEpoch:)))
                }
            }
        }
    }

    /// Writes a run's changing fields.
    static func save(_ run: Run, in db: Database) throws {
        try db.cachedStatement(
            sql: """
                UPDATE runs SET status = ?, run_at = ?, attempt = ?, attempt_base = ?, worker_id = ?,
                    lease_expires_at = ?, cancel_requested = ?, result = ?, last_error = ?, updated_at = ?,
                    finished_at = ?
                WHERE id = ?
                """
        ).execute(arguments: [
            run.status.rawValue, run.request.runAt.microsecondsSinceEpoch, run.attempt, run.attemptBase,
            run.workerID, run.leaseExpiresAt?.microsecondsSinceEpoch, run.cancelRequested, run.result?.jsonText,
            run.lastError, run.updatedAt.microsecondsSinceEpoch, run.finishedAt?.microsecondsSinceEpoch,
            run.id.lowercasedString,
        ])
    }

    /// Closes attempt `number` (a hand-back deletes it: it did not count).
    static func endAttempt(
        of run: Run, number: Int, outcome: AttemptOutcome, error: String?, at time: Timestamp, in db: Database
    ) throws {
        if outcome == .handedBack {
            try db.cachedStatement(sql: "DELETE FROM run_attempts WHERE run_id = ? AND number = ?").execute(
                arguments: [run.id.lowercasedString, number])
            return
        }
        try db.cachedStatement(
            sql: "UPDATE run_attempts SET ended_at = ?, outcome = ?, error = ? WHERE run_id = ? AND number = ?"
        ).execute(arguments: [time.microsecondsSinceEpoch, outcome.rawValue, error, run.id.lowercasedString, number])
    }

    /// The columns `run(_:)` reads, by position.
    static let columns = """
        id, tenant_id, kind, arguments, priority, status, run_at, attempt, max_attempts, backoff_strategy, \
        backoff_base_seconds, backoff_cap_seconds, dedupe_key, dedupe_until, concurrency_key, concurrency_limit, \
        instance_id, worker_id, lease_expires_at, cancel_requested, result, last_error, created_at, updated_at, \
        finished_at, attempt_base, task_id
        """

    static func run(_ row: Row) throws -> Run {
        guard let id = UUID(canonical: row[0]), let tenant = TenantID(uuidString: row[1]),
            let arguments = JSONValue(parsing: row[3] as String)?.objectValue,
            let status = RunStatus(rawValue: row[5]), let strategy = BackoffStrategy(rawValue: row[9])
        else { throw StoreError(.corruptData, "A stored run could not be decoded.") }
        let createdAt = Timestamp(microsecondsSinceEpoch: row[22])
        let dedupeUntil = (row[13] as Int64?)
        let window = dedupeUntil.map { Int(($0 - createdAt.microsecondsSinceEpoch) / 1_000_000) } ?? 0
        let request = NewRun(
            id: id, kind: row[2], tenantID: tenant, arguments: arguments, priority: row[4],
            runAt: Timestamp(microsecondsSinceEpoch: row[6]), maxAttempts: row[8],
            backoff: Backoff(strategy: strategy, baseSeconds: row[10], capSeconds: row[11]), dedupeKey: row[12],
            dedupeWindowSeconds: window, concurrencyKey: row[14], concurrencyLimit: row[15],
            instanceID: (row[16] as String?).flatMap(UUID.init(canonical:)),
            taskID: (row[26] as String?).flatMap(UUID.init(canonical:)), createdAt: createdAt)
        return Run(
            request: request, status: status, attempt: row[7], attemptBase: row[25], workerID: row[17],
            leaseExpiresAt: (row[18] as Int64?).map(Timestamp.init(microsecondsSinceEpoch:)),
            cancelRequested: row[19], result: (row[20] as String?).flatMap(JSONValue.init(parsing:)),
            lastError: row[21], updatedAt: Timestamp(microsecondsSinceEpoch: row[23]),
            finishedAt: (row[24] as Int64?).map(Timestamp.init(microsecondsSinceEpoch:)))
    }
}

/// Rings the run wake-up after every commit that inserted runs or changed a run's state (a run became
/// claimable, or a concurrency slot came free): SQLite's in-process signal, sent after the commit.
final class SQLiteRunCommitObserver: TransactionObserver, @unchecked Sendable {
    // Touched on the writer's queue only.
    private var touched = false
    private let wakeup: RunWakeup

    init(wakeup: RunWakeup) { self.wakeup = wakeup }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        switch eventKind {
        case .insert(let table): table == "runs"
        case .update(let table, let columns): table == "runs" && columns.contains("status")
        case .delete: false
        }
    }

    func databaseDidChange(with event: DatabaseEvent) { touched = true }

    func databaseDidCommit(_ db: Database) {
        guard touched else { return }
        touched = false
        wakeup.signal()
    }

    func databaseDidRollback(_ db: Database) { touched = false }
}

/// Rings the event bell after every commit that appended events. The single writer commits one transaction at a
/// time, so listeners read every log they follow (the ring names no tenant: SQLite tells the observer rows, not
/// their tenants).
final class SQLiteEventCommitObserver: TransactionObserver, @unchecked Sendable {
    // Touched on the writer's queue only.
    private var touched = false
    private let bell: EventBell

    init(bell: EventBell) { self.bell = bell }

    // `events` is a WITHOUT ROWID table, which SQLite's update hook does not report; every append also
    // inserts or bumps its tenant's row of `event_sequences`, which it does.
    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        switch eventKind {
        case .insert(let table): table == "event_sequences"
        case .update(let table, _): table == "event_sequences"
        case .delete: false
        }
    }

    func databaseDidChange(with event: DatabaseEvent) { touched = true }

    func databaseDidCommit(_ db: Database) {
        guard touched else { return }
        touched = false
        bell.ring(nil)
    }

    func databaseDidRollback(_ db: Database) { touched = false }
}
