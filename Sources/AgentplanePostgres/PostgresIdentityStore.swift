import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import PostgresNIO

/// Users, memberships, refresh tokens and generated secrets on PostgreSQL. Sign-in is platform-wide
/// (a user's tenants are not known before it), so these run in the platform-wide row scope.
struct PostgresIdentityStore: IdentityStore {
    let client: PostgresClient
    let logger: Logger

    static let userColumns = "id, email, name, password_hash, is_platform_admin, ap_micros(created_at) AS created_at"

    func createUser(_ user: User, memberships: [Membership], event: NewEvent) async throws {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                try await connection.guardedQuery(
                    """
                    INSERT INTO users (id, email, name, password_hash, is_platform_admin, created_at)
                    VALUES (\(user.id), \(user.email), \(user.name), \(user.passwordHash), \(user.isPlatformAdmin),
                        ap_ts(\(user.createdAt.microsecondsSinceEpoch)))
                    """,
                    logger: logger
                )
                for membership in memberships {
                    try await connection.guardedQuery(
                        """
                        INSERT INTO memberships (user_id, tenant_id, role)
                        VALUES (\(membership.userID), \(membership.tenantID.rawValue), \(membership.role.rawValue))
                        """,
                        logger: logger
                    )
                }
                _ = try await PostgresEventLog.append([event], tenant: .platform, on: connection, logger: logger)
            }
        }
    }

    func findUser(email: String) async throws -> User? {
        try await findUser(where: "email = $1", email)
    }

    func findUser(id: UUID) async throws -> User? {
        try await findUser(where: "id = $1", id)
    }

    private func findUser(where condition: String, _ value: some PostgresEncodable & Sendable) async throws -> User? {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                var binds = PostgresBindings()
                try binds.append(value)
                let rows = try await connection.guardedQuery(
                    PostgresQuery(unsafeSQL: "SELECT \(Self.userColumns) FROM users WHERE \(condition)", binds: binds),
                    logger: logger
                )
                for try await row in rows {
                    let columns = row.makeRandomAccess()
                    return User(
                        id: try columns["id"].decode(UUID.self),
                        email: try columns["email"].decode(String.self),
                        name: try columns["name"].decode(String.self),
                        passwordHash: try columns["password_hash"].decode(String.self),
                        isPlatformAdmin: try columns["is_platform_admin"].decode(Bool.self),
                        createdAt: Timestamp(microsecondsSinceEpoch: try columns["created_at"].decode(Int64.self))
                    )
                }
                return nil
            }
        }
    }

    func memberships(of user: UUID) async throws -> [Membership] {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                var memberships: [Membership] = []
                for try await (tenant, role) in try await connection.guardedQuery(
                    "SELECT tenant_id, role FROM memberships WHERE user_id = \(user) ORDER BY tenant_id",
                    logger: logger
                ).decode((UUID, String).self) {
                    guard let role = Role(rawValue: role) else {
                        throw StoreError(.corruptData, "A stored membership could not be decoded.")
                    }
                    memberships.append(Membership(userID: user, tenantID: TenantID(tenant), role: role))
                }
                return memberships
            }
        }
    }

    func insertRefreshToken(_ token: RefreshToken) async throws {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(token.tenantID), logger: logger) { connection in
                try await Self.insert(token, on: connection, logger: logger)
            }
        }
    }

    func rotateRefreshToken(hash: String, replacement: @Sendable (RefreshToken) -> RefreshToken, now: Timestamp)
        async throws -> RefreshToken?
    {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                // FOR UPDATE: two concurrent uses of one token cannot both rotate it.
                let rows = try await connection.guardedQuery(
                    """
                    SELECT id, family_id, user_id, tenant_id, token_hash, ap_micros(created_at) AS created_at,
                        ap_micros(expires_at) AS expires_at, replaced_at IS NOT NULL AS replaced,
                        revoked_at IS NOT NULL AS revoked
                    FROM refresh_tokens WHERE token_hash = \(hash) FOR UPDATE
                    """,
                    logger: logger
                )
                var found: (RefreshToken, Bool, Bool)?
                for try await row in rows {
                    let columns = row.makeRandomAccess()
                    let token = RefreshToken(
                        id: try columns["id"].decode(UUID.self),
                        familyID: try columns["family_id"].decode(UUID.self),
                        userID: try columns["user_id"].decode(UUID.self),
                        tenantID: TenantID(try columns["tenant_id"].decode(UUID.self)),
                        tokenHash: try columns["token_hash"].decode(String.self),
                        createdAt: Timestamp(microsecondsSinceEpoch: try columns["created_at"].decode(Int64.self)),
                        expiresAt: Timestamp(microsecondsSinceEpoch: try columns["expires_at"].decode(Int64.self))
                    )
                    found = (token, try columns["replaced"].decode(Bool.self), try columns["revoked"].decode(Bool.self))
                }
                guard let (token, replaced, revoked) = found else { return nil }
                if replaced {
                    try await connection.guardedQuery(
                        """
                        UPDATE refresh_tokens SET revoked_at = ap_ts(\(now.microsecondsSinceEpoch))
                        WHERE family_id = \(token.familyID) AND revoked_at IS NULL
                        """,
                        logger: logger
                    )
                    return nil
                }
                guard !revoked, token.expiresAt > now else { return nil }
                try await connection.guardedQuery(
                    "UPDATE refresh_tokens SET replaced_at = ap_ts(\(now.microsecondsSinceEpoch)) WHERE id = \(token.id)",
                    logger: logger
                )
                try await Self.insert(replacement(token), on: connection, logger: logger)
                return token
            }
        }
    }

    func secret(named name: String, generate: @Sendable () -> String) async throws -> String {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                try await connection.guardedQuery(
                    "INSERT INTO platform_secrets (name, value) VALUES (\(name), \(generate())) ON CONFLICT DO NOTHING",
                    logger: logger
                )
                for try await value in try await connection.guardedQuery(
                    "SELECT value FROM platform_secrets WHERE name = \(name)",
                    logger: logger
                ).decode(String.self) {
                    return value
                }
                throw StoreError(.other, "The secret could not be read back.")
            }
        }
    }

    static func insert(_ token: RefreshToken, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.guardedQuery(
            """
            INSERT INTO refresh_tokens (id, family_id, user_id, tenant_id, token_hash, created_at, expires_at)
            VALUES (\(token.id), \(token.familyID), \(token.userID), \(token.tenantID.rawValue), \(token.tokenHash),
                ap_ts(\(token.createdAt.microsecondsSinceEpoch)), ap_ts(\(token.expiresAt.microsecondsSinceEpoch)))
            """,
            logger: logger
        )
    }
}
