import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import PostgresNIO

/// Instances on PostgreSQL. The quota is a conditional counter increment, the create's last statement
/// (`PostgresTenantUsage`), so concurrent creates in one tenant stay exact without queueing.
struct PostgresInstanceStore: InstanceStore {
    let client: PostgresClient
    let logger: Logger

    static let columns = """
        id, tenant_id, agent_id, owner_user_id, project_id, name, user_config::text AS user_config,
        config::text AS config, pipeline_config::text AS pipeline_config, status, version,
        ap_micros(created_at) AS created_at, ap_micros(updated_at) AS updated_at, status_reason
        """

    func create(_ instance: Instance, record: ChangeRecord) async throws {
        let (userConfig, config, pipeline) = try Self.json(instance)
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(instance.tenantID), logger: logger) { connection in
                try await connection.guardedQuery(
                    """
                    INSERT INTO instances (id, tenant_id, agent_id, owner_user_id, project_id, name, user_config, config,
                        pipeline_config, status, version, created_at, updated_at, status_reason)
                    VALUES (\(instance.id), \(instance.tenantID.rawValue), \(instance.agentID), \(instance.ownerUserID),
                        \(instance.projectID), \(instance.name), \(userConfig)::jsonb, \(config)::jsonb,
                        \(pipeline)::jsonb, \(instance.status.rawValue), \(instance.version),
                        ap_ts(\(instance.createdAt.microsecondsSinceEpoch)), ap_ts(\(instance.updatedAt.microsecondsSinceEpoch)),
                        \(instance.statusReason))
                    """,
                    logger: logger
                )
                try await connection.guardedQuery(
                    """
                    INSERT INTO knowledge_bases (id, tenant_id, instance_id, created_at)
                    VALUES (\(UUIDv7.make()), \(instance.tenantID.rawValue), \(instance.id),
                        ap_ts(\(instance.createdAt.microsecondsSinceEpoch)))
                    """,
                    logger: logger
                )
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
                try await PostgresTenantUsage.reserve(
                    .instances, tenant: instance.tenantID, on: connection, logger: logger)
            }
        }
    }

    func find(tenant: TenantID, id: UUID) async throws -> Instance? {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(id)
        return try await PostgresErrors.translating {
            try await client.withScopedRead(
                .tenant(tenant),
                sql: "SELECT \(Self.columns) FROM instances WHERE tenant_id = $1 AND id = $2",
                binds: binds,
                logger: logger
            ) { rows in
                for try await row in rows { return try Self.instance(row.makeRandomAccess()) }
                return nil
            }
        }
    }

    func list(tenant: TenantID, query: InstanceQuery) async throws -> [Instance] {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(query.after)
        binds.append(query.status?.rawValue)
        binds.append(query.agentID)
        binds.append(query.projectID)
        binds.append(query.ownerUserID)
        binds.append(query.limit)
        binds.append(query.afterName ?? "")
        // Keyset paging in either order: by id, or by (name, id) — collation "C" so both backends order
        // names by code point.
        let (position, order) =
            query.sort == .name
            ? (
                "($2::uuid IS NULL OR (name COLLATE \"C\", id) > ($8 COLLATE \"C\", $2))",
                "name COLLATE \"C\", id"
            )
            : ("($2::uuid IS NULL OR id > $2)", "id")
        let sql = """
            SELECT \(Self.columns) FROM instances
            WHERE tenant_id = $1 AND \(position)
                AND ($3::text IS NULL OR status = $3) AND ($4::uuid IS NULL OR agent_id = $4)
                AND ($5::text IS NULL OR project_id = $5) AND ($6::text IS NULL OR owner_user_id = $6)
            ORDER BY \(order) LIMIT $7
            """
        return try await PostgresErrors.translating {
            try await client.withScopedRead(.tenant(tenant), sql: sql, binds: binds, logger: logger) { rows in
                var instances: [Instance] = []
                for try await row in rows { instances.append(try Self.instance(row.makeRandomAccess())) }
                return instances
            }
        }
    }

    func update(_ instance: Instance, expectedVersion: Int64, from: InstanceStatus, record: ChangeRecord) async throws
        -> Instance
    {
        try from.validateChange(to: instance.status)
        var next = instance
        next.version = expectedVersion + 1
        let (userConfig, config, pipeline) = try Self.json(next)
        return try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(instance.tenantID), logger: logger) { connection in
                var updated = false
                for try await _ in try await connection.guardedQuery(
                    """
                    UPDATE instances SET name = \(next.name), project_id = \(next.projectID),
                        user_config = \(userConfig)::jsonb, config = \(config)::jsonb, pipeline_config = \(pipeline)::jsonb,
                        status = \(next.status.rawValue), version = \(next.version),
                        updated_at = ap_ts(\(next.updatedAt.microsecondsSinceEpoch)), status_reason = \(next.statusReason)
                    WHERE tenant_id = \(next.tenantID.rawValue) AND id = \(next.id) AND version = \(expectedVersion)
                        AND status = \(from.rawValue)
                    RETURNING id
                    """,
                    logger: logger
                ) {
                    updated = true
                }
                guard updated else {
                    let exists = try await PostgresRows.exists(
                        on: connection, table: "instances", id: next.id, tenant: next.tenantID, logger: logger)
                    throw StoreError.conditionalWriteMissed("instance", rowExists: exists)
                }
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
                return next
            }
        }
    }

    func delete(tenant: TenantID, id: UUID, record: ChangeRecord) async throws {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(tenant), logger: logger) { connection in
                var deleted = false
                for try await _ in try await connection.guardedQuery(
                    "DELETE FROM instances WHERE tenant_id = \(tenant.rawValue) AND id = \(id) RETURNING id",
                    logger: logger
                ) {
                    deleted = true
                }
                guard deleted else { throw StoreError(.notFound, "No such instance.") }
                try await connection.guardedQuery(
                    "DELETE FROM knowledge_bases WHERE tenant_id = \(tenant.rawValue) AND instance_id = \(id)",
                    logger: logger
                )
                var entries = 0
                for try await _ in try await connection.guardedQuery(
                    "DELETE FROM kb_entries WHERE tenant_id = \(tenant.rawValue) AND instance_id = \(id) RETURNING id",
                    logger: logger
                ) {
                    entries += 1
                }
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
                try await PostgresTenantUsage.release(
                    .instances, count: 1, tenant: tenant, on: connection, logger: logger)
                try await PostgresTenantUsage.release(
                    .kbEntries, count: entries, tenant: tenant, on: connection, logger: logger)
            }
        }
    }

    static func json(_ instance: Instance) throws -> (String, String, String) {
        return (
            JSONValue.object(instance.userConfig).jsonText,
            JSONValue.object(instance.config).jsonText,
            instance.pipelineConfig.jsonText
        )
    }

    static func instance(_ row: PostgresRandomAccessRow) throws -> Instance {
        guard let status = InstanceStatus(rawValue: try row["status"].decode(String.self)),
            let userConfig = JSONValue(parsing: try row["user_config"].decode(String.self))?.objectValue,
            let config = JSONValue(parsing: try row["config"].decode(String.self))?.objectValue,
            let pipeline = JSONValue(parsing: try row["pipeline_config"].decode(String.self))
        else { throw StoreError(.corruptData, "A stored instance could not be decoded.") }
        return Instance(
            id: try row["id"].decode(UUID.self),
            tenantID: TenantID(try row["tenant_id"].decode(UUID.self)),
            agentID: try row["agent_id"].decode(UUID.self),
            ownerUserID: try row["owner_user_id"].decode(String.self),
            projectID: try row["project_id"].decode(String?.self),
            name: try row["name"].decode(String.self),
            userConfig: userConfig,
            config: config,
            pipelineConfig: pipeline,
            status: status,
            statusReason: try row["status_reason"].decode(String?.self),
            version: try row["version"].decode(Int64.self),
            createdAt: Timestamp(microsecondsSinceEpoch: try row["created_at"].decode(Int64.self)),
            updatedAt: Timestamp(microsecondsSinceEpoch: try row["updated_at"].decode(Int64.self))
        )
    }
}
