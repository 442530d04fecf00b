import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import PostgresNIO

extension PostgresRunQueue {
    func recordSteps(tenant: TenantID, run: UUID, attempt: Int, _ steps: [StepLog]) async throws {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(tenant), logger: logger) { connection in
                try await connection.guardedQuery(
                    "DELETE FROM run_steps WHERE tenant_id = \(tenant.rawValue) AND run_id = \(run) AND attempt = \(attempt)",
                    logger: logger)
                for step in steps {
                    try await connection.guardedQuery(
                        """
                        INSERT INTO run_steps (run_id, attempt, position, tenant_id, step_id, uses, outcome, input,
                            output, error, calls, started_at, duration_us)
                        VALUES (\(run), \(attempt), \(step.position), \(tenant.rawValue), \(step.stepID), \(step.uses),
                            \(step.outcome.rawValue), \(step.input?.jsonText)::jsonb, \(step.output?.jsonText)::jsonb,
                            \(step.error), \(step.calls), ap_ts(\(step.startedAt.microsecondsSinceEpoch)),
                            \(step.durationMicroseconds))
                        """,
                        logger: logger)
                }
            }
        }
    }

    func steps(tenant: TenantID, run: UUID) async throws -> [StepLog] {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(run)
        return try await PostgresErrors.translating {
            try await client.withScopedRead(
                .tenant(tenant),
                sql: """
                    SELECT attempt, position, step_id, uses, outcome, input::text AS input, output::text AS output,
                        error, calls, ap_micros(started_at) AS started_at, duration_us
                    FROM run_steps WHERE tenant_id = $1 AND run_id = $2 ORDER BY attempt, position
                    """,
                binds: binds, logger: logger
            ) { rows in
                var steps: [StepLog] = []
                for try await row in rows {
                    let row = row.makeRandomAccess()
                    guard let outcome = StepOutcome(rawValue: try row["outcome"].decode(String.self)) else {
                        throw StoreError(.corruptData, "A stored step log could not be decoded.")
                    }
                    steps.append(
                        StepLog(
                            attempt: try row["attempt"].decode(Int.self),
                            position: try row["position"].decode(Int.self),
                            stepID: try row["step_id"].decode(String.self), uses: try row["uses"].decode(String.self),
                            outcome: outcome,
                            input: try row["input"].decode(String?.self).flatMap { JSONValue(parsing: $0) },
                            output: try row["output"].decode(String?.self).flatMap { JSONValue(parsing: $0) },
                            error: try row["error"].decode(String?.self), calls: try row["calls"].decode(Int.self),
                            startedAt: Timestamp(microsecondsSinceEpoch: try row["started_at"].decode(Int64.self)),
                            durationMicroseconds: try row["duration_us"].decode(Int64.self)))
                }
                return steps
            }
        }
    }
}
