import AgentplaneCore
import AgentplaneStore
import Foundation
import GRDB

/// The agent catalog on SQLite. Each version's full state is kept in `agent_versions`.
struct SQLiteAgentStore: AgentStore {
    let pool: DatabasePool

    func create(_ agent: Agent, record: ChangeRecord) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: """
                        INSERT INTO agents (id, type, name, description, category, default_config, content,
                            activation_code, rate, is_active, version, created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """
                ).execute(
                    arguments: try Self.arguments(agent)
                )
                try Self.keepVersion(agent, in: db)
                try SQLiteChangeRecorder.record(record, in: db)
            }
        }
    }

    func find(id: UUID, includeDeleted: Bool) async throws -> Agent? {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchOne(
                    try db.cachedStatement(sql: "SELECT * FROM agents WHERE id = ? AND (? OR deleted_at IS NULL)"),
                    arguments: [id.lowercasedString, includeDeleted]
                ).map(Self.agent)
            }
        }
    }

    func list(after: UUID?, limit: Int, includeInactive: Bool) async throws -> [Agent] {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchAll(
                    try db.cachedStatement(
                        sql: """
                            SELECT * FROM agents WHERE deleted_at IS NULL AND (? OR is_active = 1) AND id > ?
                            ORDER BY id LIMIT ?
                            """),
                    arguments: [includeInactive, after?.lowercasedString ?? "", limit]
                ).map(Self.agent)
            }
        }
    }

    func update(_ agent: Agent, expectedVersion: Int64, record: ChangeRecord) async throws -> Agent {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                var next = agent
                next.version = expectedVersion + 1
                try db.cachedStatement(
                    sql: """
                        UPDATE agents SET type = ?, name = ?, description = ?, category = ?, default_config = ?,
                            content = ?, activation_code = ?, rate = ?, is_active = ?, version = ?, updated_at = ?
                        WHERE id = ? AND deleted_at IS NULL AND version = ?
                        """
                ).execute(
                    arguments: [
                        next.type, next.name, next.description, next.category,
                        JSONValue.object(next.defaultConfig).jsonText,
                        try JSONEncoder().encode(next.content).utf8String, next.activationCode, next.rate,
                        next.isActive,
                        next.version, next.updatedAt.microsecondsSinceEpoch, next.id.lowercasedString, expectedVersion,
                    ]
                )
                guard db.changesCount == 1 else {
                    let exists = try SQLiteRows.exists(db, table: "agents", id: agent.id, liveOnly: true)
                    throw StoreError.conditionalWriteMissed("agent", rowExists: exists)
                }
                try Self.keepVersion(next, in: db)
                try SQLiteChangeRecorder.record(record, in: db)
                return next
            }
        }
    }

    func delete(id: UUID, at time: Timestamp, record: ChangeRecord) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: """
                        UPDATE agents SET deleted_at = ?, is_active = 0, version = version + 1, updated_at = ?
                        WHERE id = ? AND deleted_at IS NULL
                        """
                ).execute(
                    arguments: [time.microsecondsSinceEpoch, time.microsecondsSinceEpoch, id.lowercasedString]
                )
                guard db.changesCount == 1 else { throw StoreError(.notFound, "No such agent.") }
                if let deleted = try Row.fetchOne(
                    try db.cachedStatement(sql: "SELECT * FROM agents WHERE id = ?"), arguments: [id.lowercasedString]
                )
                .map(Self.agent) {
                    try Self.keepVersion(deleted, in: db)
                }
                try SQLiteChangeRecorder.record(record, in: db)
            }
        }
    }

    func versions(id: UUID) async throws -> [Agent] {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try String.fetchAll(
                    try db.cachedStatement(
                        sql: "SELECT snapshot FROM agent_versions WHERE agent_id = ? ORDER BY version DESC"),
                    arguments: [id.lowercasedString]
                ).map { text in
                    guard let agent = JSONValue(parsing: text).flatMap(Agent.init(snapshot:)) else {
                        throw StoreError(.corruptData, "A stored agent version could not be decoded.")
                    }
                    return agent
                }
            }
        }
    }

    static func keepVersion(_ agent: Agent, in db: Database) throws {
        try db.cachedStatement(
            sql: "INSERT INTO agent_versions (agent_id, version, snapshot) VALUES (?, ?, ?)"
        ).execute(
            arguments: [
                agent.id.lowercasedString, agent.version, try JSONEncoder().encode(agent.snapshot).utf8String,
            ]
        )
    }

    static func arguments(_ agent: Agent) throws -> StatementArguments {
        [
            agent.id.lowercasedString, agent.type, agent.name, agent.description, agent.category,
            JSONValue.object(agent.defaultConfig).jsonText,
            try JSONEncoder().encode(agent.content).utf8String, agent.activationCode, agent.rate, agent.isActive,
            agent.version, agent.createdAt.microsecondsSinceEpoch, agent.updatedAt.microsecondsSinceEpoch,
        ]
    }

    static func agent(_ row: Row) throws -> Agent {
        guard let id = UUID(canonical: row["id"]),
            let defaultConfig = JSONValue(parsing: row["default_config"] as String)?.objectValue,
            let content = JSONValue(parsing: row["content"] as String)
        else { throw StoreError(.corruptData, "A stored agent could not be decoded.") }
        return Agent(
            id: id,
            type: row["type"],
            name: row["name"],
            description: row["description"],
            category: row["category"],
            defaultConfig: defaultConfig,
            content: content,
            activationCode: row["activation_code"],
            rate: row["rate"],
            isActive: row["is_active"],
            version: row["version"],
            createdAt: Timestamp(microsecondsSinceEpoch: row["created_at"]),
            updatedAt: Timestamp(microsecondsSinceEpoch: row["updated_at"]),
            deletedAt: (row["deleted_at"] as Int64?).map(Timestamp.init(microsecondsSinceEpoch:))
        )
    }
}
