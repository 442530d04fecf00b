import AgentplaneCore
import AgentplaneStore
import Foundation
import GRDB

/// Instances' health checks on SQLite: the insert, the pruning and the events in one write.
struct SQLiteInstanceHealthStore: InstanceHealthStore {
    let pool: DatabasePool

    func record(_ check: InstanceHealthCheck, keep: Int, events: [NewEvent]) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                let instance = check.instanceID.lowercasedString
                guard try SQLiteRows.exists(db, table: "instances", id: check.instanceID, tenant: check.tenantID)
                else { throw StoreError(.notFound, "No such instance.") }
                try db.cachedStatement(
                    sql: """
                        INSERT INTO instance_health_checks (id, tenant_id, instance_id, checked_at, healthy, latency_ms,
                            detail)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """
                ).execute(
                    arguments: [
                        check.id.lowercasedString, check.tenantID.description, instance,
                        check.checkedAt.microsecondsSinceEpoch, check.healthy, check.latencyMs, check.detail,
                    ])
                try db.cachedStatement(
                    sql: """
                        DELETE FROM instance_health_checks WHERE instance_id = ? AND id NOT IN (
                            SELECT id FROM instance_health_checks WHERE instance_id = ?
                            ORDER BY checked_at DESC, id DESC LIMIT ?)
                        """
                ).execute(arguments: [instance, instance, max(keep, 1)])
                _ = try SQLiteEventLog.append(events, tenant: check.tenantID, in: db)
            }
        }
    }

    func recent(tenant: TenantID, instance: UUID, limit: Int) async throws -> [InstanceHealthCheck] {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchAll(
                    try db.cachedStatement(
                        sql: """
                            SELECT id, tenant_id, instance_id, checked_at, healthy, latency_ms, detail
                            FROM instance_health_checks WHERE tenant_id = ? AND instance_id = ?
                            ORDER BY checked_at DESC, id DESC LIMIT ?
                            """),
                    arguments: [tenant.description, instance.lowercasedString, limit]
                ).map(Self.check)
            }
        }
    }

    static func check(_ row: Row) throws -> InstanceHealthCheck {
        guard let id = UUID(canonical: row["id"]), let tenant = TenantID(uuidString: row["tenant_id"]),
            let instance = UUID(canonical: row["instance_id"])
        else { throw StoreError(.corruptData, "A stored health check could not be decoded.") }
        return InstanceHealthCheck(
            id: id, tenantID: tenant, instanceID: instance,
            checkedAt: Timestamp(microsecondsSinceEpoch: row["checked_at"]), healthy: row["healthy"],
            latencyMs: row["latency_ms"], detail: row["detail"])
    }
}
