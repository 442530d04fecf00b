import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import PostgresNIO

/// The agent catalog on PostgreSQL. The catalog is platform-wide (no tenant column); its changes are
/// recorded in the platform tenant's event log and audit log.
struct PostgresAgentStore: AgentStore {
    let client: PostgresClient
    let logger: Logger

    static let columns = """
        id, type, name, description, category, default_config::text AS default_config, content::text AS content,
        activation_code, rate, is_active, version, ap_micros(created_at) AS created_at,
        ap_micros(updated_at) AS updated_at, ap_micros(deleted_at) AS deleted_at
        """

    func create(_ agent: Agent, record: ChangeRecord) async throws {
        let (config, content) = try Self.json(agent)
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(record.audit.tenantID), logger: logger) { connection in
                try await connection.guardedQuery(
                    """
                    INSERT INTO agents (id, type, name, description, category, default_config, content, activation_code,
                        rate, is_active, version, created_at, updated_at)
                    VALUES (\(agent.id), \(agent.type), \(agent.name), \(agent.description), \(agent.category),
                        \(config)::jsonb, \(content)::jsonb, \(agent.activationCode), \(agent.rate), \(agent.isActive),
                        \(agent.version), ap_ts(\(agent.createdAt.microsecondsSinceEpoch)),
                        ap_ts(\(agent.updatedAt.microsecondsSinceEpoch)))
                    """,
                    logger: logger
                )
                try await Self.keepVersion(agent, on: connection, logger: logger)
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
            }
        }
    }

    func find(id: UUID, includeDeleted: Bool) async throws -> Agent? {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                try await Self.find(id: id, includeDeleted: includeDeleted, on: connection, logger: logger)
            }
        }
    }

    func list(after: UUID?, limit: Int, includeInactive: Bool) async throws -> [Agent] {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                var binds = PostgresBindings()
                binds.append(after)
                binds.append(includeInactive)
                binds.append(limit)
                let rows = try await connection.guardedQuery(
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT \(Self.columns) FROM agents
                            WHERE deleted_at IS NULL AND ($2 OR is_active) AND ($1::uuid IS NULL OR id > $1)
                            ORDER BY id LIMIT $3
                            """,
                        binds: binds
                    ),
                    logger: logger
                )
                var agents: [Agent] = []
                for try await row in rows { agents.append(try Self.agent(row.makeRandomAccess())) }
                return agents
            }
        }
    }

    func update(_ agent: Agent, expectedVersion: Int64, record: ChangeRecord) async throws -> Agent {
        var next = agent
        next.version = expectedVersion + 1
        let (config, content) = try Self.json(next)
        return try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(record.audit.tenantID), logger: logger) { connection in
                var updated = false
                for try await _ in try await connection.guardedQuery(
                    """
                    UPDATE agents SET type = \(next.type), name = \(next.name), description = \(next.description),
                        category = \(next.category), default_config = \(config)::jsonb, content = \(content)::jsonb,
                        activation_code = \(next.activationCode), rate = \(next.rate), is_active = \(next.isActive),
                        version = \(next.version), updated_at = ap_ts(\(next.updatedAt.microsecondsSinceEpoch))
                    WHERE id = \(next.id) AND deleted_at IS NULL AND version = \(expectedVersion)
                    RETURNING id
                    """,
                    logger: logger
                ) {
                    updated = true
                }
                guard updated else {
                    let exists = try await PostgresRows.exists(
                        on: connection, table: "agents", id: agent.id, liveOnly: true, logger: logger)
                    throw StoreError.conditionalWriteMissed("agent", rowExists: exists)
                }
                try await Self.keepVersion(next, on: connection, logger: logger)
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
                return next
            }
        }
    }

    func delete(id: UUID, at time: Timestamp, record: ChangeRecord) async throws {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(record.audit.tenantID), logger: logger) { connection in
                var deleted = false
                for try await _ in try await connection.guardedQuery(
                    """
                    UPDATE agents SET deleted_at = ap_ts(\(time.microsecondsSinceEpoch)), is_active = false,
                        version = version + 1, updated_at = ap_ts(\(time.microsecondsSinceEpoch))
                    WHERE id = \(id) AND deleted_at IS NULL RETURNING id
                    """,
                    logger: logger
                ) {
                    deleted = true
                }
                guard deleted,
                    let agent = try await Self.find(id: id, includeDeleted: true, on: connection, logger: logger)
                else { throw StoreError(.notFound, "No such agent.") }
                try await Self.keepVersion(agent, on: connection, logger: logger)
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
            }
        }
    }

    func versions(id: UUID) async throws -> [Agent] {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                var agents: [Agent] = []
                for try await text in try await connection.guardedQuery(
                    "SELECT snapshot::text FROM agent_versions WHERE agent_id = \(id) ORDER BY version DESC",
                    logger: logger
                ).decode(String.self) {
                    guard let agent = JSONValue(parsing: text).flatMap(Agent.init(snapshot:)) else {
                        throw StoreError(.corruptData, "A stored agent version could not be decoded.")
                    }
                    agents.append(agent)
                }
                return agents
            }
        }
    }

    static func find(id: UUID, includeDeleted: Bool, on connection: PostgresConnection, logger: Logger) async throws
        -> Agent?
    {
        var binds = PostgresBindings()
        binds.append(id)
        binds.append(includeDeleted)
        let rows = try await connection.guardedQuery(
            PostgresQuery(
                unsafeSQL: "SELECT \(columns) FROM agents WHERE id = $1 AND ($2 OR deleted_at IS NULL)",
                binds: binds
            ),
            logger: logger
        )
        for try await row in rows { return try agent(row.makeRandomAccess()) }
        return nil
    }

    static func keepVersion(_ agent: Agent, on connection: PostgresConnection, logger: Logger) async throws {
        let snapshot = String(decoding: try JSONEncoder().encode(agent.snapshot), as: UTF8.self)
        try await connection.guardedQuery(
            """
            INSERT INTO agent_versions (agent_id, version, snapshot)
            VALUES (\(agent.id), \(agent.version), \(snapshot)::jsonb)
            """,
            logger: logger
        )
    }

    static func json(_ agent: Agent) throws -> (config: String, content: String) {
        return (
            JSONValue.object(agent.defaultConfig).jsonText,
            String(decoding: try JSONEncoder().encode(agent.content), as: UTF8.self)
        )
    }

    static func agent(_ row: PostgresRandomAccessRow) throws -> Agent {
        guard let defaultConfig = JSONValue(parsing: try row["default_config"].decode(String.self))?.objectValue,
            let content = JSONValue(parsing: try row["content"].decode(String.self))
        else { throw StoreError(.corruptData, "A stored agent could not be decoded.") }
        return Agent(
            id: try row["id"].decode(UUID.self),
            type: try row["type"].decode(String.self),
            name: try row["name"].decode(String.self),
            description: try row["description"].decode(String.self),
            category: try row["category"].decode(String.self),
            defaultConfig: defaultConfig,
            content: content,
            activationCode: try row["activation_code"].decode(String?.self),
            rate: try row["rate"].decode(Int.self),
            isActive: try row["is_active"].decode(Bool.self),
            version: try row["version"].decode(Int64.self),
            createdAt: Timestamp(microsecondsSinceEpoch: try row["created_at"].decode(Int64.self)),
            updatedAt: Timestamp(microsecondsSinceEpoch: try row["updated_at"].decode(Int64.self)),
            deletedAt: try row["deleted_at"].decode(Int64?.self).map(Timestamp.init(microsecondsSinceEpoch:))
        )
    }
}
