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
                            config, pipeline_config, status, version, created_at, updated_at, status_reason)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """
                ).execute(
                    arguments: [
                        instance.id.lowercasedString, instance.tenantID.description,
                        instance.agentID.lowercasedString, instance.ownerUserID, instance.projectID, instance.name,
                        JSONValue.object(instance.userConfig).jsonText,
                        JSONValue.object(instance.config).jsonText,
                        instance.pipelineConfig.jsonText, instance.status.rawValue,
                        instance.version, instance.createdAt.microsecondsSinceEpoch,
                        instance.updatedAt.microsecondsSinceEpoch, instance.statusReason,
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
                    try db.cachedStatement(sql: "SELECT \(Self.columns) FROM instances WHERE tenant_id = ? AND id = ?"),
                    arguments: [tenant.description, id.lowercasedString]
                ).map(Self.instance)
            }
        }
    }

    func list(tenant: TenantID, query: InstanceQuery) async throws -> [Instance] {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                var sql = "SELECT \(Self.columns) FROM instances WHERE tenant_id = ?"
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
                            status = ?, version = ?, updated_at = ?, status_reason = ?
                        WHERE tenant_id = ? AND id = ? AND version = ? AND status = ?
                        """
                ).execute(
                    arguments: [
                        next.name, next.projectID, JSONValue.object(next.userConfig).jsonText,
                        JSONValue.object(next.config).jsonText,
                        next.pipelineConfig.jsonText, next.status.rawValue, next.version,
                        next.updatedAt.microsecondsSinceEpoch, next.statusReason, next.tenantID.description,
                        next.id.lowercasedString, expectedVersion, from.rawValue,
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

    /// The columns `instance(_:)` reads, by position (a look-up by name costs a case-folded search per
    /// column and row).
    static let columns = """
        id, tenant_id, agent_id, owner_user_id, project_id, name, user_config, config, pipeline_config, status, \
        version, created_at, updated_at, status_reason
        """

    static func instance(_ row: Row) throws -> Instance {
        guard let id = UUID(canonical: row[0]), let tenant = TenantID(uuidString: row[1]),
            let agent = UUID(canonical: row[2]), let status = InstanceStatus(rawValue: row[9]),
            let userConfig = JSONValue(parsing: row[6] as String)?.objectValue,
            let config = JSONValue(parsing: row[7] as String)?.objectValue,
            let pipeline = JSONValue(parsing: row[8] as String)
        else { throw StoreError(.corruptData, "A stored instance could not be decoded.") }
        return Instance(
            id: id,
            tenantID: tenant,
            agentID: agent,
            ownerUserID: row[3],
            projectID: row[4],
            name: row[5],
            userConfig: userConfig,
            config: config,
            pipelineConfig: pipeline,
            status: status,
            statusReason: row[13],
            version: row[10],
            createdAt: Timestamp(microsecondsSinceEpoch: row[11]),
            updatedAt: Timestamp(microsecondsSinceEpoch: row[12])
        )
    }
}
