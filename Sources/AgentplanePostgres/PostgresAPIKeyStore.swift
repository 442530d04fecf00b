import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import PostgresNIO

/// API keys on PostgreSQL.
struct PostgresAPIKeyStore: APIKeyStore {
    let client: PostgresClient
    let logger: Logger

    func insert(_ key: APIKeyRecord, event: NewEvent) async throws {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(key.tenantID), logger: logger) { connection in
                try await Self.insert(key, on: connection, logger: logger)
                _ = try await PostgresEventLog.append([event], tenant: key.tenantID, on: connection, logger: logger)
            }
        }
    }

    static func insert(_ key: APIKeyRecord, on connection: PostgresConnection, logger: Logger) async throws {
        let scopes = String(decoding: try JSONEncoder().encode(key.scopes), as: UTF8.self)
        try await connection.guardedQuery(
            """
            INSERT INTO api_keys (id, tenant_id, prefix, secret_hash, name, role, scopes, is_bootstrap,
                created_at, last_used_at, expires_at, revoked_at, service_account_id)
            VALUES (\(key.id), \(key.tenantID.rawValue), \(key.prefix), \(key.secretHash), \(key.name),
                \(key.role.rawValue), \(scopes)::jsonb, \(key.isBootstrap),
                ap_ts(\(key.createdAt.microsecondsSinceEpoch)), ap_ts(\(key.lastUsedAt?.microsecondsSinceEpoch)),
                ap_ts(\(key.expiresAt?.microsecondsSinceEpoch)), ap_ts(\(key.revokedAt?.microsecondsSinceEpoch)),
                \(key.serviceAccountID))
            """,
            logger: logger
        )
    }

    static let columns = """
        k.id, k.tenant_id, k.prefix, k.secret_hash, k.name, k.role, k.scopes::text AS scopes, k.is_bootstrap,
        ap_micros(k.created_at) AS created_at, ap_micros(k.last_used_at) AS last_used_at,
        ap_micros(k.expires_at) AS expires_at, ap_micros(k.revoked_at) AS revoked_at, k.service_account_id
        """

    func find(prefix: String) async throws -> (key: APIKeyRecord, tenant: TenantAccess?)? {
        var binds = PostgresBindings()
        binds.append(prefix)
        let sql = """
            SELECT \(Self.columns), t.status AS tenant_status, t.requests_per_minute AS tenant_rpm FROM api_keys k
            LEFT JOIN tenants t ON t.id = k.tenant_id AND t.deleted_at IS NULL
            WHERE k.prefix = $1
            """
        return try await PostgresErrors.translating {
            try await client.withScopedRead(.platformWide, sql: sql, binds: binds, logger: logger) { rows in
                for try await row in rows {
                    let columns = row.makeRandomAccess()
                    let status = try columns["tenant_status"].decode(String?.self).flatMap(TenantStatus.init(rawValue:))
                    let access = try status.map {
                        TenantAccess(status: $0, requestsPerMinute: try columns["tenant_rpm"].decode(Int.self))
                    }
                    return (try Self.record(columns), access)
                }
                return nil
            }
        }
    }

    func bootstrapKeyExists() async throws -> Bool {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                let rows = try await connection.guardedQuery(
                    "SELECT EXISTS (SELECT 1 FROM api_keys WHERE is_bootstrap)",
                    logger: logger
                )
                for try await exists in rows.decode(Bool.self) { return exists }
                return false
            }
        }
    }

    func recordUse(id: UUID, at time: Timestamp, notBefore: Timestamp) async throws {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                try await connection.guardedQuery(
                    """
                    UPDATE api_keys SET last_used_at = ap_ts(\(time.microsecondsSinceEpoch))
                    WHERE id = \(id) AND (last_used_at IS NULL OR last_used_at < ap_ts(\(notBefore.microsecondsSinceEpoch)))
                    """,
                    logger: logger
                )
            }
        }
    }

    static func record(_ row: PostgresRandomAccessRow) throws -> APIKeyRecord {
        let scopesText = try row["scopes"].decode(String.self)
        guard let role = Role(rawValue: try row["role"].decode(String.self)),
            let scopes = try? JSONDecoder().decode([String].self, from: Data(scopesText.utf8))
        else { throw StoreError(.corruptData, "A stored API key could not be decoded.") }
        func timestamp(_ column: String) throws -> Timestamp? {
            try row[column].decode(Int64?.self).map(Timestamp.init(microsecondsSinceEpoch:))
        }
        return APIKeyRecord(
            id: try row["id"].decode(UUID.self),
            tenantID: TenantID(try row["tenant_id"].decode(UUID.self)),
            prefix: try row["prefix"].decode(String.self),
            secretHash: try row["secret_hash"].decode(String.self),
            name: try row["name"].decode(String.self),
            role: role,
            scopes: scopes,
            isBootstrap: try row["is_bootstrap"].decode(Bool.self),
            createdAt: try timestamp("created_at")!,
            lastUsedAt: try timestamp("last_used_at"),
            expiresAt: try timestamp("expires_at"),
            revokedAt: try timestamp("revoked_at"),
            serviceAccountID: try row["service_account_id"].decode(UUID?.self)
        )
    }
}
