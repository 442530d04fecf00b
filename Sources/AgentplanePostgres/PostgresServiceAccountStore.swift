import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import PostgresNIO

/// Service accounts and their keys on PostgreSQL.
struct PostgresServiceAccountStore: ServiceAccountStore {
    let client: PostgresClient
    let logger: Logger

    static let columns = """
        id, tenant_id, name, description, role, scopes::text AS scopes, ap_micros(created_at) AS created_at
        """

    func create(_ account: ServiceAccount, record: ChangeRecord) async throws {
        let scopes = String(decoding: try JSONEncoder().encode(account.scopes), as: UTF8.self)
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(account.tenantID), logger: logger) { connection in
                try await connection.guardedQuery(
                    """
                    INSERT INTO service_accounts (id, tenant_id, name, description, role, scopes, created_at)
                    VALUES (\(account.id), \(account.tenantID.rawValue), \(account.name), \(account.description),
                        \(account.role.rawValue), \(scopes)::jsonb, ap_ts(\(account.createdAt.microsecondsSinceEpoch)))
                    """,
                    logger: logger
                )
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
            }
        }
    }

    func list(tenant: TenantID) async throws -> [ServiceAccount] {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(tenant), logger: logger) { connection in
                var binds = PostgresBindings()
                binds.append(tenant.rawValue)
                let rows = try await connection.guardedQuery(
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT \(Self.columns) FROM service_accounts
                            WHERE tenant_id = $1 AND deleted_at IS NULL ORDER BY id
                            """,
                        binds: binds
                    ),
                    logger: logger
                )
                var accounts: [ServiceAccount] = []
                for try await row in rows { accounts.append(try Self.account(row.makeRandomAccess())) }
                return accounts
            }
        }
    }

    func find(tenant: TenantID, id: ServiceAccount.ID) async throws -> ServiceAccount? {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(tenant), logger: logger) { connection in
                try await Self.find(tenant: tenant, id: id, on: connection, logger: logger)
            }
        }
    }

    func delete(tenant: TenantID, id: ServiceAccount.ID, at time: Timestamp, record: ChangeRecord) async throws {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(tenant), logger: logger) { connection in
                var deleted = false
                for try await _ in try await connection.guardedQuery(
                    """
                    UPDATE service_accounts SET deleted_at = ap_ts(\(time.microsecondsSinceEpoch))
                    WHERE tenant_id = \(tenant.rawValue) AND id = \(id) AND deleted_at IS NULL RETURNING id
                    """,
                    logger: logger
                ) {
                    deleted = true
                }
                guard deleted else { throw StoreError(.notFound, "No such service account.") }
                try await connection.guardedQuery(
                    """
                    UPDATE api_keys SET revoked_at = ap_ts(\(time.microsecondsSinceEpoch))
                    WHERE tenant_id = \(tenant.rawValue) AND service_account_id = \(id) AND revoked_at IS NULL
                    """,
                    logger: logger
                )
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
            }
        }
    }

    func createKey(_ key: APIKeyRecord, record: ChangeRecord) async throws {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(key.tenantID), logger: logger) { connection in
                // FOR SHARE: the account cannot be deleted until this key is committed.
                var exists = false
                for try await _ in try await connection.guardedQuery(
                    """
                    SELECT id FROM service_accounts
                    WHERE tenant_id = \(key.tenantID.rawValue) AND id = \(key.serviceAccountID) AND deleted_at IS NULL
                    FOR SHARE
                    """,
                    logger: logger
                ) {
                    exists = true
                }
                guard exists else { throw StoreError(.notFound, "No such service account.") }
                try await PostgresAPIKeyStore.insert(key, on: connection, logger: logger)
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
            }
        }
    }

    func listKeys(tenant: TenantID, account: ServiceAccount.ID) async throws -> [APIKeyRecord] {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(tenant), logger: logger) { connection in
                var binds = PostgresBindings()
                binds.append(tenant.rawValue)
                binds.append(account)
                let rows = try await connection.guardedQuery(
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT \(PostgresAPIKeyStore.columns) FROM api_keys k
                            WHERE k.tenant_id = $1 AND k.service_account_id = $2 ORDER BY k.id DESC
                            """,
                        binds: binds
                    ),
                    logger: logger
                )
                var keys: [APIKeyRecord] = []
                for try await row in rows { keys.append(try PostgresAPIKeyStore.record(row.makeRandomAccess())) }
                return keys
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
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(tenant), logger: logger) { connection in
                var revoked = false
                for try await _ in try await connection.guardedQuery(
                    """
                    UPDATE api_keys SET revoked_at = ap_ts(\(time.microsecondsSinceEpoch))
                    WHERE tenant_id = \(tenant.rawValue) AND service_account_id = \(account) AND id = \(key)
                        AND revoked_at IS NULL
                    RETURNING id
                    """,
                    logger: logger
                ) {
                    revoked = true
                }
                guard revoked else { throw StoreError(.notFound, "No such active key.") }
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
            }
        }
    }

    static func find(tenant: TenantID, id: ServiceAccount.ID, on connection: PostgresConnection, logger: Logger)
        async throws -> ServiceAccount?
    {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(id)
        let rows = try await connection.guardedQuery(
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(columns) FROM service_accounts WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL
                    """,
                binds: binds
            ),
            logger: logger
        )
        for try await row in rows { return try account(row.makeRandomAccess()) }
        return nil
    }

    static func account(_ row: PostgresRandomAccessRow) throws -> ServiceAccount {
        guard let role = Role(rawValue: try row["role"].decode(String.self)),
            let scopes = try? JSONDecoder().decode(
                [String].self, from: Data(try row["scopes"].decode(String.self).utf8))
        else { throw StoreError(.corruptData, "A stored service account could not be decoded.") }
        return ServiceAccount(
            id: try row["id"].decode(UUID.self),
            tenantID: TenantID(try row["tenant_id"].decode(UUID.self)),
            name: try row["name"].decode(String.self),
            description: try row["description"].decode(String.self),
            role: role,
            scopes: scopes,
            createdAt: Timestamp(microsecondsSinceEpoch: try row["created_at"].decode(Int64.self))
        )
    }
}
