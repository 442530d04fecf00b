import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import PostgresNIO

/// Secrets on PostgreSQL (sealed values only).
struct PostgresSecretStore: SecretStore {
    let client: PostgresClient
    let logger: Logger

    func create(_ secret: TenantSecret, record: ChangeRecord) async throws {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(secret.tenantID), logger: logger) { connection in
                try await connection.guardedQuery(
                    """
                    INSERT INTO secrets (id, tenant_id, name, ciphertext, version, created_at, updated_at)
                    VALUES (\(secret.id), \(secret.tenantID.rawValue), \(secret.name), \(secret.ciphertext),
                        \(secret.version), ap_ts(\(secret.createdAt.microsecondsSinceEpoch)),
                        ap_ts(\(secret.updatedAt.microsecondsSinceEpoch)))
                    """,
                    logger: logger)
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
            }
        }
    }

    func find(tenant: TenantID, name: String) async throws -> TenantSecret? {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(name)
        return try await read(tenant, "WHERE tenant_id = $1 AND name = $2", binds).first
    }

    func list(tenant: TenantID, after: String?, limit: Int) async throws -> [TenantSecret] {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(after ?? "")
        binds.append(limit)
        return try await read(
            tenant, "WHERE tenant_id = $1 AND name COLLATE \"C\" > $2 ORDER BY name COLLATE \"C\" LIMIT $3", binds)
    }

    func update(_ secret: TenantSecret, record: ChangeRecord) async throws {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(secret.tenantID), logger: logger) { connection in
                var updated = false
                for try await _ in try await connection.guardedQuery(
                    """
                    UPDATE secrets SET ciphertext = \(secret.ciphertext), version = \(secret.version),
                        updated_at = ap_ts(\(secret.updatedAt.microsecondsSinceEpoch))
                    WHERE tenant_id = \(secret.tenantID.rawValue) AND name = \(secret.name) RETURNING id
                    """,
                    logger: logger
                ) {
                    updated = true
                }
                guard updated else { throw StoreError(.notFound, "No such secret.") }
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
            }
        }
    }

    func delete(tenant: TenantID, name: String, record: ChangeRecord) async throws {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(tenant), logger: logger) { connection in
                var deleted = false
                for try await _ in try await connection.guardedQuery(
                    "DELETE FROM secrets WHERE tenant_id = \(tenant.rawValue) AND name = \(name) RETURNING id",
                    logger: logger
                ) {
                    deleted = true
                }
                guard deleted else { throw StoreError(.notFound, "No such secret.") }
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
            }
        }
    }

    private func read(_ tenant: TenantID, _ condition: String, _ binds: PostgresBindings) async throws
        -> [TenantSecret]
    {
        try await PostgresErrors.translating {
            try await client.withScopedRead(
                .tenant(tenant),
                sql: """
                    SELECT id, tenant_id, name, ciphertext, version, ap_micros(created_at) AS created_at,
                        ap_micros(updated_at) AS updated_at
                    FROM secrets \(condition)
                    """,
                binds: binds, logger: logger
            ) { rows in
                var secrets: [TenantSecret] = []
                for try await row in rows {
                    let row = row.makeRandomAccess()
                    secrets.append(
                        TenantSecret(
                            id: try row["id"].decode(UUID.self),
                            tenantID: TenantID(try row["tenant_id"].decode(UUID.self)),
                            name: try row["name"].decode(String.self),
                            ciphertext: try row["ciphertext"].decode(String.self),
                            version: try row["version"].decode(Int64.self),
                            createdAt: Timestamp(microsecondsSinceEpoch: try row["created_at"].decode(Int64.self)),
                            updatedAt: Timestamp(microsecondsSinceEpoch: try row["updated_at"].decode(Int64.self))))
                }
                return secrets
            }
        }
    }
}

/// MCP servers on PostgreSQL.
struct PostgresMCPServerStore: MCPServerStore {
    let client: PostgresClient
    let logger: Logger

    func create(_ server: MCPServerConfig, record: ChangeRecord) async throws {
        let (arguments, environment, headers) = Self.json(server)
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(server.tenantID), logger: logger) { connection in
                try await connection.guardedQuery(
                    """
                    INSERT INTO mcp_servers (id, tenant_id, name, transport, command, args, env, url, headers, version,
                        created_at, updated_at)
                    VALUES (\(server.id), \(server.tenantID.rawValue), \(server.name), \(server.transport.rawValue),
                        \(server.command), \(arguments)::jsonb, \(environment)::jsonb, \(server.url), \(headers)::jsonb,
                        \(server.version), ap_ts(\(server.createdAt.microsecondsSinceEpoch)),
                        ap_ts(\(server.updatedAt.microsecondsSinceEpoch)))
                    """,
                    logger: logger)
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
            }
        }
    }

    func find(tenant: TenantID, id: UUID) async throws -> MCPServerConfig? {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(id)
        return try await read(tenant, "WHERE tenant_id = $1 AND id = $2", binds).first
    }

    func find(tenant: TenantID, name: String) async throws -> MCPServerConfig? {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(name)
        return try await read(tenant, "WHERE tenant_id = $1 AND name = $2", binds).first
    }

    func list(tenant: TenantID, after: String?, limit: Int) async throws -> [MCPServerConfig] {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(after ?? "")
        binds.append(limit)
        return try await read(
            tenant, "WHERE tenant_id = $1 AND name COLLATE \"C\" > $2 ORDER BY name COLLATE \"C\" LIMIT $3", binds)
    }

    func update(_ server: MCPServerConfig, expectedVersion: Int64, record: ChangeRecord) async throws {
        let (arguments, environment, headers) = Self.json(server)
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(server.tenantID), logger: logger) { connection in
                var updated = false
                for try await _ in try await connection.guardedQuery(
                    """
                    UPDATE mcp_servers SET name = \(server.name), transport = \(server.transport.rawValue),
                        command = \(server.command), args = \(arguments)::jsonb, env = \(environment)::jsonb,
                        url = \(server.url), headers = \(headers)::jsonb, version = \(server.version),
                        updated_at = ap_ts(\(server.updatedAt.microsecondsSinceEpoch))
                    WHERE tenant_id = \(server.tenantID.rawValue) AND id = \(server.id) AND version = \(expectedVersion)
                    RETURNING id
                    """,
                    logger: logger
                ) {
                    updated = true
                }
                guard updated else {
                    let exists = try await PostgresRows.exists(
                        on: connection, table: "mcp_servers", id: server.id, tenant: server.tenantID, logger: logger)
                    throw StoreError.conditionalWriteMissed("MCP server", rowExists: exists)
                }
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
            }
        }
    }

    func delete(tenant: TenantID, id: UUID, record: ChangeRecord) async throws {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(tenant), logger: logger) { connection in
                var deleted = false
                for try await _ in try await connection.guardedQuery(
                    "DELETE FROM mcp_servers WHERE tenant_id = \(tenant.rawValue) AND id = \(id) RETURNING id",
                    logger: logger
                ) {
                    deleted = true
                }
                guard deleted else { throw StoreError(.notFound, "No such MCP server.") }
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
            }
        }
    }

    static func json(_ server: MCPServerConfig) -> (String, String, String) {
        (
            JSONValue.array(server.arguments.map(JSONValue.string)).jsonText,
            JSONValue.object(server.environment.mapValues(JSONValue.string)).jsonText,
            JSONValue.object(server.headers.mapValues(JSONValue.string)).jsonText
        )
    }

    private func read(_ tenant: TenantID, _ condition: String, _ binds: PostgresBindings) async throws
        -> [MCPServerConfig]
    {
        try await PostgresErrors.translating {
            try await client.withScopedRead(
                .tenant(tenant),
                sql: """
                    SELECT id, tenant_id, name, transport, command, args::text AS args, env::text AS env, url,
                        headers::text AS headers, version, ap_micros(created_at) AS created_at,
                        ap_micros(updated_at) AS updated_at
                    FROM mcp_servers \(condition)
                    """,
                binds: binds, logger: logger
            ) { rows in
                var servers: [MCPServerConfig] = []
                for try await row in rows {
                    let row = row.makeRandomAccess()
                    guard let transport = MCPServerConfig.Transport(rawValue: try row["transport"].decode(String.self)),
                        let arguments = JSONValue(parsing: try row["args"].decode(String.self))?.arrayValue,
                        let environment = JSONValue(parsing: try row["env"].decode(String.self))?.objectValue,
                        let headers = JSONValue(parsing: try row["headers"].decode(String.self))?.objectValue
                    else { throw StoreError(.corruptData, "A stored MCP server could not be decoded.") }
                    servers.append(
                        MCPServerConfig(
                            id: try row["id"].decode(UUID.self),
                            tenantID: TenantID(try row["tenant_id"].decode(UUID.self)),
                            name: try row["name"].decode(String.self), transport: transport,
                            command: try row["command"].decode(String?.self),
                            arguments: arguments.compactMap(\.stringValue),
                            environment: environment.compactMapValues(\.stringValue),
                            url: try row["url"].decode(String?.self), headers: headers.compactMapValues(\.stringValue),
                            version: try row["version"].decode(Int64.self),
                            createdAt: Timestamp(microsecondsSinceEpoch: try row["created_at"].decode(Int64.self)),
                            updatedAt: Timestamp(microsecondsSinceEpoch: try row["updated_at"].decode(Int64.self))))
                }
                return servers
            }
        }
    }
}
