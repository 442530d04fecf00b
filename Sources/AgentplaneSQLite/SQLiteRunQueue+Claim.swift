import AgentplaneCore
import AgentplaneStore
import Foundation
import GRDB

/// The claim on SQLite, inside the caller's write transaction (the single writer makes it exact
/// without row locks).
extension SQLiteRunQueue {
    static func claim(_ request: ClaimRequest, in db: Database) throws -> [Run] {
        let now = request.now.microsecondsSinceEpoch
        // The tenants with claimable runs: one index probe per tenant (a skip scan), however many runs
        // one of them has queued.
        let tenants = try String.fetchAll(
            try db.cachedStatement(
                sql: """
                    WITH RECURSIVE ready(tenant) AS (
                        SELECT min(tenant_id) FROM runs WHERE status IN ('queued', 'failed')
                        UNION ALL
                        SELECT (SELECT min(tenant_id) FROM runs WHERE status IN ('queued', 'failed') AND tenant_id > ready.tenant)
                        FROM ready WHERE ready.tenant IS NOT NULL
                    )
                    SELECT tenant FROM ready WHERE tenant IS NOT NULL
                    """))
        // Each tenant's best runs, ranked within (tenant, priority); then all of them ordered by
        // priority, rank, run-at: within a priority, tenants take turns. Candidates are read by their
        // ordering columns only; the chosen ones come back whole from their UPDATE.
        struct Candidate {
            var id: String
            var tenant: String
            var priority: Int
            var runAt: Int64
            var concurrencyKey: String?
            var concurrencyLimit: Int
            var rank: Int
        }
        var candidates: [Candidate] = []
        let kinds = request.kinds.map { Array($0).sorted() }
        for tenant in tenants {
            var sql = """
                SELECT id, priority, run_at, concurrency_key, concurrency_limit FROM runs INDEXED BY runs_claimable
                WHERE tenant_id = ? AND status IN ('queued', 'failed') AND run_at <= ?
                """
            var arguments: StatementArguments = [tenant, now]
            if let kinds {
                sql += " AND kind IN (\(kinds.map { _ in "?" }.joined(separator: ", ")))"
                arguments += StatementArguments(kinds)
            }
            sql += " ORDER BY priority, run_at, id LIMIT ?"
            arguments += [request.limit]
            var rankByPriority: [Int: Int] = [:]
            let rows = try Row.fetchCursor(try db.cachedStatement(sql: sql), arguments: arguments)
            while let row = try rows.next() {
                let priority: Int = row[1]
                let rank = rankByPriority[priority, default: 0]
                rankByPriority[priority] = rank + 1
                candidates.append(
                    Candidate(
                        id: row[0], tenant: tenant, priority: priority, runAt: row[2], concurrencyKey: row[3],
                        concurrencyLimit: row[4], rank: rank))
            }
        }
        candidates.sort { ($0.priority, $0.rank, $0.runAt, $0.id) < ($1.priority, $1.rank, $1.runAt, $1.id) }
        // Concurrency keys: the running count fleet-wide (one node on SQLite) plus what this claim takes.
        // A key is the tenant's own: another tenant's runs never take its slots.
        struct Key: Hashable {
            var tenant: String
            var name: String
        }
        var running: [Key: Int] = [:]
        var claimed: [Run] = []
        let leaseUntil = now + request.leaseMicroseconds
        for candidate in candidates where claimed.count < request.limit {
            if let name = candidate.concurrencyKey {
                let key = Key(tenant: candidate.tenant, name: name)
                let count =
                    try running[key]
                    ?? Int.fetchOne(
                        try db.cachedStatement(
                            sql:
                                "SELECT count(*) FROM runs WHERE status = 'running' AND tenant_id = ? AND concurrency_key = ?"
                        ),
                        arguments: [key.tenant, key.name]) ?? 0
                guard count < candidate.concurrencyLimit else {
                    running[key] = count
                    continue
                }
                running[key] = count + 1
            }
            guard
                let run = try Row.fetchOne(
                    try db.cachedStatement(
                        sql: """
                            UPDATE runs SET status = 'running', attempt = attempt + 1, worker_id = ?,
                                lease_expires_at = ?, updated_at = ?
                            WHERE id = ? RETURNING \(columns)
                            """),
                    arguments: [request.workerID, leaseUntil, now, candidate.id]
                ).map(run)
            else { continue }
            try db.cachedStatement(
                sql: """
                    INSERT INTO run_attempts (run_id, tenant_id, number, worker_id, started_at, ended_at, outcome, error)
                    VALUES (?, ?, ?, ?, ?, NULL, 'running', NULL)
                    """
            ).execute(arguments: [candidate.id, candidate.tenant, run.attempt, request.workerID, now])
            claimed.append(run)
        }
        for (tenant, runs) in Dictionary(grouping: claimed, by: \.request.tenantID) {
            _ = try SQLiteEventLog.append(
                runs.map { Events.run(.runStarted, $0, at: request.now) }, tenant: tenant, in: db)
        }
        return claimed
    }
}
