import AgentplaneCore
import AgentplaneStore
import Foundation
import GRDB

/// Secrets on SQLite (sealed values only).
struct SQLiteSecretStore: SecretStore {
    let pool: DatabasePool

    func create(_ secret: TenantSecret, record: ChangeRecord) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: """
                        INSERT INTO secrets (id, tenant_id, name, ciphertext, version, created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """
                ).execute(arguments: [
                    secret.id.lowercasedString, secret.tenantID.description, secret.name, secret.ciphertext,
                    secret.version, secret.createdAt.microsecondsSinceEpoch, secret.updatedAt.microsecondsSinceEpoch,
                ])
                try SQLiteChangeRecorder.record(record, in: db)
            }
        }
    }

    func find(tenant: TenantID, name: String) async throws -> TenantSecret? {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchOne(
                    try db.cachedStatement(
                        sql: "SELECT \(Self.columns) FROM secrets WHERE tenant_id = ? AND name = ?"),
                    arguments: [tenant.description, name]
                ).map(Self.secret)
            }
        }
    }

    func list(tenant: TenantID, after: String?, limit: Int) async throws -> [TenantSecret] {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchAll(
                    try db.cachedStatement(
                        sql:
                            "SELECT \(Self.columns) FROM secrets WHERE tenant_id = ? AND name > ? ORDER BY name LIMIT ?"
                    ),
                    arguments: [tenant.description, after ?? "", limit]
                ).map(Self.secret)
            }
        }
    }

    func update(_ secret: TenantSecret, record: ChangeRecord) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql:
                        "UPDATE secrets SET ciphertext = ?, version = ?, updated_at = ? WHERE tenant_id = ? AND name = ?"
                ).execute(arguments: [
                    secret.ciphertext, secret.version, secret.updatedAt.microsecondsSinceEpoch,
                    secret.tenantID.description, secret.name,
                ])
                guard db.changesCount == 1 else { throw StoreError(.notFound, "No such secret.") }
                try SQLiteChangeRecorder.record(record, in: db)
            }
        }
    }

    func delete(tenant: TenantID, name: String, record: ChangeRecord) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(sql: "DELETE FROM secrets WHERE tenant_id = ? AND name = ?").execute(
                    arguments: [tenant.description, name])
                guard db.changesCount == 1 else { throw StoreError(.notFound, "No such secret.") }
                try SQLiteChangeRecorder.record(record, in: db)
            }
        }
    }

    static let columns = "id, tenant_id, name, ciphertext, version, created_at, updated_at"

    static func secret(_ row: Row) throws -> TenantSecret {
        guard let id = UUID(canonical: row[0]), let tenant = TenantID(uuidString: row[1]) else {
            throw StoreError(.corruptData, "A stored secret could not be decoded.")
        }
        return TenantSecret(
            id: id, tenantID: tenant, name: row[2], ciphertext: row[3], version: row[4],
            createdAt: Timestamp(microsecondsSinceEpoch: row[5]), updatedAt: Timestamp(microsecondsSinceEpoch: row[6]))
    }
}

/// MCP servers on SQLite.
struct SQLiteMCPServerStore: MCPServerStore {
    let pool: DatabasePool

    func create(_ server: MCPServerConfig, record: ChangeRecord) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: """
                        INSERT INTO mcp_servers (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """
                ).execute(arguments: Self.arguments(server))
                try SQLiteChangeRecorder.record(record, in: db)
            }
        }
    }

    func find(tenant: TenantID, id: UUID) async throws -> MCPServerConfig? {
        try await one("id", id.lowercasedString, tenant: tenant)
    }

    func find(tenant: TenantID, name: String) async throws -> MCPServerConfig? {
        try await one("name", name, tenant: tenant)
    }

    private func one(_ column: String, _ value: String, tenant: TenantID) async throws -> MCPServerConfig? {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchOne(
                    try db.cachedStatement(
                        sql: "SELECT \(Self.columns) FROM mcp_servers WHERE tenant_id = ? AND \(column) = ?"),
                    arguments: [tenant.description, value]
                ).map(Self.server)
            }
        }
    }

    func list(tenant: TenantID, after: String?, limit: Int) async throws -> [MCPServerConfig] {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchAll(
                    try db.cachedStatement(
                        sql: """
                            SELECT \(Self.columns) FROM mcp_servers WHERE tenant_id = ? AND name > ? ORDER BY name LIMIT ?
                            """),
                    arguments: [tenant.description, after ?? "", limit]
                ).map(Self.server)
            }
        }
    }

    func update(_ server: MCPServerConfig, expectedVersion: Int64, record: ChangeRecord) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: """
                        UPDATE mcp_servers SET name = ?, transport = ?, command = ?, args = ?, env = ?, url = ?,
                            headers = ?, version = ?, updated_at = ?
                        WHERE tenant_id = ? AND id = ? AND version = ?
                        """
                ).execute(arguments: [
                    server.name, server.transport.rawValue, server.command, Self.json(server.arguments),
                    Self.json(server.environment), server.url, Self.json(server.headers), server.version,
                    server.updatedAt.microsecondsSinceEpoch, server.tenantID.description, server.id.lowercasedString,
                    expectedVersion,
                ])
                guard db.changesCount == 1 else {
                    let exists = try SQLiteRows.exists(db, table: "mcp_servers", id: server.id, tenant: server.tenantID)
                    throw StoreError.conditionalWriteMissed("MCP server", rowExists: exists)
                }
                try SQLiteChangeRecorder.record(record, in: db)
            }
        }
    }

    func delete(tenant: TenantID, id: UUID, record: ChangeRecord) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(sql: "DELETE FROM mcp_servers WHERE tenant_id = ? AND id = ?").execute(
                    arguments: [tenant.description, id.lowercasedString])
                guard db.changesCount == 1 else { throw StoreError(.notFound, "No such MCP server.") }
                try SQLiteChangeRecorder.record(record, in: db)
            }
        }
    }

    static let columns =
        "id, tenant_id, name, transport, command, args, env, url, headers, version, created_at, updated_at"

    static func json(_ strings: [String]) -> String { JSONValue.array(strings.map(JSONValue.string)).jsonText }
    static func json(_ strings: [String: String]) -> String {
        JSONValue.object(strings.mapValues(JSONValue.string)).jsonText
    }

    static func arguments(_ server: MCPServerConfig) -> StatementArguments {
        [
            server.id.lowercasedString, server.tenantID.description, server.name, server.transport.rawValue,
            server.command, json(server.arguments), json(server.environment), server.url, json(server.headers),
            server.version, server.createdAt.microsecondsSinceEpoch, server.updatedAt.microsecondsSinceEpoch,
        ]
    }

    static func server(_ row: Row) throws -> MCPServerConfig {
        guard let id = UUID(canonical: row[0]), let tenant = TenantID(uuidString: row[1]),
            let transport = MCPServerConfig.Transport(rawValue: row[3]),
            let arguments = JSONValue(parsing: row[5] as String)?.arrayValue,
            let environment = JSONValue(parsing: row[6] as String)?.objectValue,
            let headers = JSONValue(parsing: row[8] as String)?.objectValue
        else { throw StoreError(.corruptData, "A stored MCP server could not be decoded.") }
        return MCPServerConfig(
            id: id, tenantID: tenant, name: row[2], transport: transport, command: row[4],
            arguments: arguments.compactMap(\.stringValue), environment: environment.compactMapValues(\.stringValue),
            url: row[7], headers: headers.compactMapValues(\.stringValue), version: row[9],
            createdAt: Timestamp(microsecondsSinceEpoch: row[10]), updatedAt: Timestamp(microsecondsSinceEpoch: row[11])
        )
    }
}
