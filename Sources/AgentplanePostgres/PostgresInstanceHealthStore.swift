import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import PostgresNIO

/// Instances' health checks on PostgreSQL: the insert, the pruning and the events in one tenant transaction.
struct PostgresInstanceHealthStore: InstanceHealthStore {
    let client: PostgresClient
    let logger: Logger

    func record(_ check: InstanceHealthCheck, keep: Int, events: [NewEvent]) async throws {
        let tenant = check.tenantID
        let checkedAt = check.checkedAt.microsecondsSinceEpoch
        let keep = max(keep, 1)
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(tenant), logger: logger) { connection in
                guard
                    try await PostgresRows.exists(
                        on: connection, table: "instances", id: check.instanceID, tenant: tenant, logger: logger)
                else { throw StoreError(.notFound, "No such instance.") }
                try await connection.guardedQuery(
                    """
                    INSERT INTO instance_health_checks (id, tenant_id, instance_id, checked_at, healthy, latency_ms,
                        detail)
                    VALUES (\(check.id), \(tenant.rawValue), \(check.instanceID), ap_ts(\(checkedAt)), \(check.healthy),
                        \(check.latencyMs), \(check.detail))
                    """, logger: logger)
                try await connection.guardedQuery(
                    """
                    DELETE FROM instance_health_checks WHERE instance_id = \(check.instanceID) AND id NOT IN (
                        SELECT id FROM instance_health_checks WHERE instance_id = \(check.instanceID)
                        ORDER BY checked_at DESC, id DESC LIMIT \(keep))
                    """, logger: logger)
                if !events.isEmpty {
                    _ = try await PostgresEventLog.append(events, tenant: tenant, on: connection, logger: logger)
                }
            }
        }
    }

    func recent(tenant: TenantID, instance: UUID, limit: Int) async throws -> [InstanceHealthCheck] {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(instance)
        binds.append(limit)
        return try await PostgresErrors.translating {
            try await client.withScopedRead(
                .tenant(tenant),
                sql: """
                    SELECT id, tenant_id, instance_id, ap_micros(checked_at) AS checked_at, healthy, latency_ms, detail
                    FROM instance_health_checks WHERE tenant_id = $1 AND instance_id = $2
                    ORDER BY checked_at DESC, id DESC LIMIT $3
                    """,
                binds: binds, logger: logger
            ) { rows in
                var checks: [InstanceHealthCheck] = []
                for try await row in rows {
                    let row = row.makeRandomAccess()
                    checks.append(
                        InstanceHealthCheck(
                            id: try row["id"].decode(UUID.self),
                            tenantID: TenantID(try row["tenant_id"].decode(UUID.self)),
                            instanceID: try row["instance_id"].decode(UUID.self),
                            checkedAt: Timestamp(microsecondsSinceEpoch: try row["checked_at"].decode(Int64.self)),
                            healthy: try row["healthy"].decode(Bool.self),
                            latencyMs: try row["latency_ms"].decode(Int.self),
                            detail: try row["detail"].decode(String.self)))
                }
                return checks
            }
        }
    }
}
