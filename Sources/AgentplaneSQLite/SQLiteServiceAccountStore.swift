import AgentplaneCore
import AgentplaneStore
import Foundation
import GRDB

/// Service accounts and their keys on SQLite.
struct SQLiteServiceAccountStore: ServiceAccountStore {
    let pool: DatabasePool

    func create(_ account: ServiceAccount, record: ChangeRecord) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: """
                        INSERT INTO service_accounts (id, tenant_id, name, description, role, scopes, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """
                ).execute(
                    arguments: [
                        account.id.lowercasedString, account.tenantID.description, account.name, account.description,
                        account.role.rawValue, try JSONEncoder().encode(account.scopes).utf8String,
                        account.createdAt.microsecondsSinceEpoch,
                    ]
                )
                try SQLiteChangeRecorder.record(record, in: db)
            }
        }
    }

    func list(tenant: TenantID) async throws -> [ServiceAccount] {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchAll(
                    try db.cachedStatement(
                        sql: "SELECT * FROM service_accounts WHERE tenant_id = ? AND deleted_at IS NULL ORDER BY id"),
                    arguments: [tenant.description]
                ).map(Self.account)
            }
        }
    }

    func find(tenant: TenantID, id: ServiceAccount.ID) async throws -> ServiceAccount? {
        try await SQLiteErrors.translating {
            try await pool.read { db in try Self.find(tenant: tenant, id: id, in: db) }
        }
    }

    func delete(tenant: TenantID, id: ServiceAccount.ID, at time: Timestamp, record: ChangeRecord) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: """
                        UPDATE service_accounts SET deleted_at = ? WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL
                        """
                ).execute(
                    arguments: [time.microsecondsSinceEpoch, tenant.description, id.lowercasedString]
                )
                guard db.changesCount == 1 else { throw StoreError(.notFound, "No such service account.") }
                try db.cachedStatement(
                    sql: """
                        UPDATE api_keys SET revoked_at = ?
                        WHERE tenant_id = ? AND service_account_id = ? AND revoked_at IS NULL
                        """
                ).execute(
                    arguments: [time.microsecondsSinceEpoch, tenant.description, id.lowercasedString]
                )
                try SQLiteChangeRecorder.record(record, in: db)
            }
        }
    }

    func createKey(_ key: APIKeyRecord, record: ChangeRecord) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                guard let account = key.serviceAccountID,
                    try Self.find(tenant: key.tenantID, id: account, in: db) != nil
                else { throw StoreError(.notFound, "No such service account.") }
                try SQLiteAPIKeyStore.insert(key, in: db)
                try SQLiteChangeRecorder.record(record, in: db)
            }
        }
    }

    func listKeys(tenant: TenantID, account: ServiceAccount.ID) async throws -> [APIKeyRecord] {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchAll(
                    try db.cachedStatement(
                        sql: "SELECT * FROM api_keys WHERE tenant_id = ? AND service_account_id = ? ORDER BY id DESC"),
                    arguments: [tenant.description, account.lowercasedString]
                ).map(SQLiteAPIKeyStore.record)
            }
        }
    }

    func revokeKey(
        tenant: TenantID,
        account: ServiceAccount.ID,
        key: APIKeyRecord.ID,
        at time: Timestamp,
        record: ChangeRecord
    ) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: """
                        UPDATE api_keys SET revoked_at = ?
                        WHERE tenant_id = ? AND service_account_id = ? AND id = ? AND revoked_at IS NULL
                        """
                ).execute(
                    arguments: [
                        time.microsecondsSinceEpoch, tenant.description, account.lowercasedString, key.lowercasedString,
                    ]
                )
                guard db.changesCount == 1 else { throw StoreError(.notFound, "No such active key.") }
                try SQLiteChangeRecorder.record(record, in: db)
            }
        }
    }

    static func find(tenant: TenantID, id: ServiceAccount.ID, in db: Database) throws -> ServiceAccount? {
        try Row.fetchOne(
            try db.cachedStatement(
                sql: "SELECT * FROM service_accounts WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL"),
            arguments: [tenant.description, id.lowercasedString]
        ).map(account)
    }

    static func account(_ row: Row) throws -> ServiceAccount {
        guard let id = UUID(canonical: row["id"]), let tenant = TenantID(uuidString: row["tenant_id"]),
            let role = Role(rawValue: row["role"]),
            let scopes = try? JSONDecoder().decode([String].self, from: Data((row["scopes"] as String).utf8))
        else { throw StoreError(.corruptData, "A stored service account could not be decoded.") }
        return ServiceAccount(
            id: id,
            tenantID: tenant,
            name: row["name"],
            description: row["description"],
            role: role,
            scopes: scopes,
            createdAt: Timestamp(microsecondsSinceEpoch: row["created_at"])
        )
    }
}
