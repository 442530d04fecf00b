import AgentplaneCore
import AgentplaneStore
import Foundation
import GRDB

/// Instances on SQLite. The single writer makes the quota counter (`SQLiteTenantUsage`) exact.
struct SQLiteInstanceStore: InstanceStore {
    let pool: DatabasePool

    func create(_ instance: Instance, record: ChangeRecord) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try SQLiteTenantUsage.reserve(.instances, tenant: instance.tenantID, in: db)
                try db.cachedStatement(
                    sql: """
                        INSERT INTO instances (id, tenant_id, agent_id, owner_user_id, project_id, name, user_config,
                            config, pipeline_config, status, version, created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """
                ).execute(
                    arguments: [
                        instance.id.lowercasedString, instance.tenantID.description,
                        instance.agentID.lowercasedString, instance.ownerUserID, instance.projectID, instance.name,
                        JSONValue.object(instance.userConfig).jsonText,
                        JSONValue.object(instance.config).jsonText,
                        instance.pipelineConfig.jsonText, instance.status.rawValue,
                        instance.version, instance.createdAt.microsecondsSinceEpoch,
                        instance.updatedAt.microsecondsSinceEpoch,
                    ]
                )
                try db.cachedStatement(
                    sql: "INSERT INTO knowledge_bases (id, tenant_id, instance_id, created_at) VALUES (?, ?, ?, ?)"
                ).execute(
                    arguments: [
                        UUIDv7.make().lowercasedString, instance.tenantID.description, instance.id.lowercasedString,
                        instance.createdAt.microsecondsSinceEpoch,
                    ]
                )
                try SQLiteChangeRecorder.record(record, in: db)
            }
        }
    }

    func find(tenant: TenantID, id: UUID) async throws -> Instance? {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchOne(
                    try db.cachedStatement(sql: "SELECT * FROM instances WHERE tenant_id = ? AND id = ?"),
                    arguments: [tenant.description, id.lowercasedString]
                ).map(Self.instance)
            }
        }
    }

    func list(tenant: TenantID, query: InstanceQuery) async throws -> [Instance] {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                var sql = "SELECT * FROM instances WHERE tenant_id = ?"
                var arguments: StatementArguments = [tenant.description]
                switch query.sort {
                case .createdAt:
                    sql += " AND id > ?"
                    arguments += [query.after?.lowercasedString ?? ""]
                case .name:
                    sql += " AND (name > ? OR (name = ? AND id > ?))"
                    arguments += [query.afterName ?? "", query.afterName ?? "", query.after?.lowercasedString ?? ""]
                }
                if let status = query.status {
                    sql += " AND status = ?"
                    arguments += [status.rawValue]
                }
                if let agent = query.agentID {
                    sql += " AND agent_id = ?"
                    arguments += [agent.lowercasedString]
                }
                if let project = query.projectID {
                    sql += " AND project_id = ?"
                    arguments += [project]
                }
                if let owner = query.ownerUserID {
                    sql += " AND owner_user_id = ?"
                    arguments += [owner]
                }
                sql += query.sort == .name ? " ORDER BY name, id LIMIT ?" : " ORDER BY id LIMIT ?"
                arguments += [query.limit]
                return try Row.fetchAll(try db.cachedStatement(sql: sql), arguments: arguments).map(Self.instance)
            }
        }
    }

    func update(_ instance: Instance, expectedVersion: Int64, from: InstanceStatus, record: ChangeRecord) async throws
        -> Instance
    {
        try from.validateChange(to: instance.status)
        return try await SQLiteErrors.translating {
            try await pool.write { db in
                var next = instance
                next.version = expectedVersion + 1
                try db.cachedStatement(
                    sql: """
                        UPDATE instances SET name = ?, project_id = ?, user_config = ?, config = ?, pipeline_config = ?,
                            status = ?, version = ?, updated_at = ?
                        WHERE tenant_id = ? AND id = ? AND version = ? AND status = ?
                        """
                ).execute(
                    arguments: [
                        next.name, next.projectID, JSONValue.object(next.userConfig).jsonText,
                        JSONValue.object(next.config).jsonText,
                        next.pipelineConfig.jsonText, next.status.rawValue, next.version,
                        next.updatedAt.microsecondsSinceEpoch, next.tenantID.description, next.id.lowercasedString,
                        expectedVersion, from.rawValue,
                    ]
                )
                guard db.changesCount == 1 else {
                    let exists = try SQLiteRows.exists(db, table: "instances", id: next.id, tenant: next.tenantID)
                    throw StoreError.conditionalWriteMissed("instance", rowExists: exists)
                }
                try SQLiteChangeRecorder.record(record, in: db)
                return next
            }
        }
    }

    func delete(tenant: TenantID, id: UUID, record: ChangeRecord) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: "DELETE FROM instances WHERE tenant_id = ? AND id = ?"
                ).execute(
                    arguments: [tenant.description, id.lowercasedString]
                )
                guard db.changesCount == 1 else { throw StoreError(.notFound, "No such instance.") }
                try db.cachedStatement(
                    sql: "DELETE FROM knowledge_bases WHERE tenant_id = ? AND instance_id = ?"
                ).execute(
                    arguments: [tenant.description, id.lowercasedString]
                )
                try db.cachedStatement(
                    sql: "DELETE FROM kb_entries WHERE tenant_id = ? AND instance_id = ?"
                ).execute(
                    arguments: [tenant.description, id.lowercasedString]
                )
                let entries = db.changesCount
                try SQLiteTenantUsage.release(.instances, count: 1, tenant: tenant, in: db)
                try SQLiteTenantUsage.release(.kbEntries, count: entries, tenant: tenant, in: db)
                try SQLiteKnowledgeBaseStore.unindex(
                    token: SQLiteKnowledgeBaseStore.scopeToken(tenant: tenant, instance: id), in: db)
                try SQLiteChangeRecorder.record(record, in: db)
            }
        }
    }

    static func instance(_ row: Row) throws -> Instance {
        guard let id = UUID(canonical: row["id"]), let tenant = TenantID(uuidString: row["tenant_id"]),
            let agent = UUID(canonical: row["agent_id"]), let status = InstanceStatus(rawValue: row["status"]),
            let userConfig = JSONValue(parsing: row["user_config"] as String)?.objectValue,
            let config = JSONValue(parsing: row["config"] as String)?.objectValue,
            let pipeline = JSONValue(parsing: row["pipeline_config"] as String)
        else { throw StoreError(.corruptData, "A stored instance could not be decoded.") }
        return Instance(
            id: id,
            tenantID: tenant,
            agentID: agent,
            ownerUserID: row["owner_user_id"],
            projectID: row["project_id"],
            name: row["name"],
            userConfig: userConfig,
            config: config,
            pipelineConfig: pipeline,
            status: status,
            version: row["version"],
            createdAt: Timestamp(microsecondsSinceEpoch: row["created_at"]),
            updatedAt: Timestamp(microsecondsSinceEpoch: row["updated_at"])
        )
    }
}
