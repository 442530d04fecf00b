import AgentplaneCore
import AgentplaneStore
import Foundation
import GRDB

/// Tenants on SQLite.
struct SQLiteTenantStore: TenantStore {
    let pool: DatabasePool

    func create(_ tenant: Tenant, record: ChangeRecord) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: """
                        INSERT INTO tenants (id, slug, name, status, max_instances, max_tasks, max_kb_entries,
                            requests_per_minute, version, created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """
                ).execute(
                    arguments: [
                        tenant.id.description, tenant.slug, tenant.name, tenant.status.rawValue,
                        tenant.quotas.maxInstances, tenant.quotas.maxTasks, tenant.quotas.maxKnowledgeBaseEntries,
                        tenant.quotas.requestsPerMinute, tenant.version, tenant.createdAt.microsecondsSinceEpoch,
                        tenant.updatedAt.microsecondsSinceEpoch,
                    ]
                )
                try SQLiteChangeRecorder.record(record, in: db)
            }
        }
    }

    func find(id: TenantID) async throws -> Tenant? {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchOne(
                    try db.cachedStatement(sql: "SELECT * FROM tenants WHERE id = ? AND deleted_at IS NULL"),
                    arguments: [id.description]
                ).map(Self.tenant)
            }
        }
    }

    func find(slug: String) async throws -> Tenant? {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchOne(
                    try db.cachedStatement(sql: "SELECT * FROM tenants WHERE slug = ? AND deleted_at IS NULL"),
                    arguments: [slug]
                ).map(Self.tenant)
            }
        }
    }

    func list(after: TenantID?, limit: Int) async throws -> [Tenant] {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchAll(
                    try db.cachedStatement(
                        sql: """
                            SELECT * FROM tenants WHERE deleted_at IS NULL AND id > ? ORDER BY id LIMIT ?
                            """),
                    arguments: [after?.description ?? "", limit]
                ).map(Self.tenant)
            }
        }
    }

    func update(_ tenant: Tenant, expectedVersion: Int64, record: ChangeRecord) async throws -> Tenant {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: """
                        UPDATE tenants SET name = ?, status = ?, max_instances = ?, max_tasks = ?, max_kb_entries = ?,
                            requests_per_minute = ?, version = version + 1, updated_at = ?
                        WHERE id = ? AND deleted_at IS NULL AND version = ?
                        """
                ).execute(
                    arguments: [
                        tenant.name, tenant.status.rawValue, tenant.quotas.maxInstances, tenant.quotas.maxTasks,
                        tenant.quotas.maxKnowledgeBaseEntries, tenant.quotas.requestsPerMinute,
                        tenant.updatedAt.microsecondsSinceEpoch, tenant.id.description, expectedVersion,
                    ]
                )
                guard db.changesCount == 1 else {
                    let exists = try SQLiteRows.exists(db, table: "tenants", id: tenant.id.rawValue, liveOnly: true)
                    throw StoreError.conditionalWriteMissed("tenant", rowExists: exists)
                }
                try SQLiteChangeRecorder.record(record, in: db)
                return try Row.fetchOne(
                    try db.cachedStatement(sql: "SELECT * FROM tenants WHERE id = ?"),
                    arguments: [tenant.id.description]
                )
                .map(Self.tenant)!
            }
        }
    }

    func delete(id: TenantID, at time: Timestamp, record: ChangeRecord) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: "UPDATE tenants SET deleted_at = ?, version = version + 1 WHERE id = ? AND deleted_at IS NULL"
                ).execute(
                    arguments: [time.microsecondsSinceEpoch, id.description]
                )
                guard db.changesCount == 1 else { throw StoreError(.notFound, "No such tenant.") }
                try db.cachedStatement(
                    sql: "UPDATE api_keys SET revoked_at = ? WHERE tenant_id = ? AND revoked_at IS NULL"
                ).execute(
                    arguments: [time.microsecondsSinceEpoch, id.description]
                )
                try SQLiteChangeRecorder.record(record, in: db)
            }
        }
    }

    static func tenant(_ row: Row) throws -> Tenant {
        guard let id = TenantID(uuidString: row["id"]), let status = TenantStatus(rawValue: row["status"]) else {
            throw StoreError(.corruptData, "A stored tenant could not be decoded.")
        }
        return Tenant(
            id: id,
            slug: row["slug"],
            name: row["name"],
            status: status,
            quotas: TenantQuotas(
                maxInstances: row["max_instances"],
                maxTasks: row["max_tasks"],
                maxKnowledgeBaseEntries: row["max_kb_entries"],
                requestsPerMinute: row["requests_per_minute"]
            ),
            version: row["version"],
            createdAt: Timestamp(microsecondsSinceEpoch: row["created_at"]),
            updatedAt: Timestamp(microsecondsSinceEpoch: row["updated_at"])
        )
    }
}
