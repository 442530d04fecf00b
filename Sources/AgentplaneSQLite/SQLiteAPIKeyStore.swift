import AgentplaneCore
import AgentplaneStore
import Foundation
import GRDB

/// API keys on SQLite.
struct SQLiteAPIKeyStore: APIKeyStore {
    let pool: DatabasePool

    func insert(_ key: APIKeyRecord, event: NewEvent) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try Self.insert(key, in: db)
                _ = try SQLiteEventLog.append([event], tenant: key.tenantID, in: db)
            }
        }
    }

    static func insert(_ key: APIKeyRecord, in db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO api_keys (id, tenant_id, prefix, secret_hash, name, role, scopes, is_bootstrap,
                    created_at, last_used_at, expires_at, revoked_at, service_account_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                key.id.lowercasedString, key.tenantID.description, key.prefix, key.secretHash, key.name,
                key.role.rawValue, try JSONEncoder().encode(key.scopes).utf8String, key.isBootstrap,
                key.createdAt.microsecondsSinceEpoch, key.lastUsedAt?.microsecondsSinceEpoch,
                key.expiresAt?.microsecondsSinceEpoch, key.revokedAt?.microsecondsSinceEpoch,
                key.serviceAccountID?.lowercasedString,
            ]
        )
    }

    func find(prefix: String) async throws -> (key: APIKeyRecord, tenant: TenantAccess?)? {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                guard
                    let row = try Row.fetchOne(
                        try db.cachedStatement(
                            sql: """
                                SELECT k.*, t.status AS tenant_status, t.requests_per_minute AS tenant_rpm FROM api_keys k
                                LEFT JOIN tenants t ON t.id = k.tenant_id AND t.deleted_at IS NULL
                                WHERE k.prefix = ?
                                """),
                        arguments: [prefix]
                    )
                else { return nil }
                let access = (row["tenant_status"] as String?).flatMap(TenantStatus.init(rawValue:)).map {
                    TenantAccess(status: $0, requestsPerMinute: row["tenant_rpm"])
                }
                return (try Self.record(row), access)
            }
        }
    }

    func bootstrapKeyExists() async throws -> Bool {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Bool.fetchOne(
                    try db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM api_keys WHERE is_bootstrap = 1)"))
                    ?? false
            }
        }
    }

    func recordUse(id: UUID, at time: Timestamp, notBefore: Timestamp) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: "UPDATE api_keys SET last_used_at = ? WHERE id = ? AND coalesce(last_used_at, 0) < ?"
                ).execute(
                    arguments: [time.microsecondsSinceEpoch, id.lowercasedString, notBefore.microsecondsSinceEpoch]
                )
            }
        }
    }

    static func record(_ row: Row) throws -> APIKeyRecord {
        let scopesText: String = row["scopes"]
        guard
            let id = UUID(canonical: row["id"]),
            let tenant = TenantID(uuidString: row["tenant_id"]),
            let role = Role(rawValue: row["role"]),
            let scopes = try? JSONDecoder().decode([String].self, from: Data(scopesText.utf8))
        else { throw StoreError(.corruptData, "A stored API key could not be decoded.") }
        return APIKeyRecord(
            id: id,
            tenantID: tenant,
            prefix: row["prefix"],
            secretHash: row["secret_hash"],
            name: row["name"],
            role: role,
            scopes: scopes,
            isBootstrap: row["is_bootstrap"],
            createdAt: Timestamp(microsecondsSinceEpoch: row["created_at"]),
            lastUsedAt: (row["last_used_at"] as Int64?).map(Timestamp.init(microsecondsSinceEpoch:)),
            expiresAt: (row["expires_at"] as Int64?).map(Timestamp.init(microsecondsSinceEpoch:)),
            revokedAt: (row["revoked_at"] as Int64?).map(Timestamp.init(microsecondsSinceEpoch:)),
            serviceAccountID: (row["service_account_id"] as String?).flatMap(UUID.init(canonical:))
        )
    }
}

extension Data {
    var utf8String: String { String(decoding: self, as: UTF8.self) }
}
