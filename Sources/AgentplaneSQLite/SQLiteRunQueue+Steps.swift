import AgentplaneCore
import AgentplaneStore
import Foundation
import GRDB

extension SQLiteRunQueue {
    func recordSteps(tenant: TenantID, run: UUID, attempt: Int, _ steps: [StepLog]) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(sql: "DELETE FROM run_steps WHERE run_id = ? AND attempt = ?").execute(
                    arguments: [run.lowercasedString, attempt])
                for step in steps {
                    try db.cachedStatement(
                        sql: """
                            INSERT INTO run_steps (run_id, attempt, position, tenant_id, step_id, uses, outcome, input,
                                output, error, calls, started_at, duration_us)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """
                    ).execute(arguments: [
                        run.lowercasedString, attempt, step.position, tenant.description, step.stepID, step.uses,
                        step.outcome.rawValue, step.input?.jsonText, step.output?.jsonText, step.error, step.calls,
                        step.startedAt.microsecondsSinceEpoch, step.durationMicroseconds,
                    ])
                }
            }
        }
    }

    func steps(tenant: TenantID, run: UUID) async throws -> [StepLog] {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchAll(
                    try db.cachedStatement(
                        sql: """
                            SELECT attempt, position, step_id, uses, outcome, input, output, error, calls, started_at,
                                duration_us
                            FROM run_steps WHERE tenant_id = ? AND run_id = ? ORDER BY attempt, position
                            """),
                    arguments: [tenant.description, run.lowercasedString]
                ).map { row in
                    guard let outcome = StepOutcome(rawValue: row[4]) else {
                        throw StoreError(.corruptData, "A stored step log could not be decoded.")
                    }
                    return StepLog(
                        attempt: row[0], position: row[1], stepID: row[2], uses: row[3], outcome: outcome,
                        input: (row[5] as String?).flatMap { JSONValue(parsing: $0) },
                        output: (row[6] as String?).flatMap { JSONValue(parsing: $0) }, error: row[7],
                        calls: row[8], startedAt: Timestamp(microsecondsSinceEpoch: row[9]),
                        durationMicroseconds: row[10])
                }
            }
        }
    }
}
