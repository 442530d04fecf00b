import AgentplaneCore
import AgentplaneStore
import Foundation
import GRDB

/// Users, memberships, refresh tokens and generated secrets on SQLite.
struct SQLiteIdentityStore: IdentityStore {
    let pool: DatabasePool

    func createUser(_ user: User, memberships: [Membership], event: NewEvent) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: """
                        INSERT INTO users (id, email, name, password_hash, is_platform_admin, created_at)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """
                ).execute(
                    arguments: [
                        user.id.lowercasedString, user.email, user.name, user.passwordHash, user.isPlatformAdmin,
                        user.createdAt.microsecondsSinceEpoch,
                    ]
                )
                for membership in memberships {
                    try db.cachedStatement(
                        sql: "INSERT INTO memberships (user_id, tenant_id, role) VALUES (?, ?, ?)"
                    ).execute(
                        arguments: [
                            membership.userID.lowercasedString, membership.tenantID.description,
                            membership.role.rawValue,
                        ]
                    )
                }
                _ = try SQLiteEventLog.append([event], tenant: .platform, in: db)
            }
        }
    }

    func findUser(email: String) async throws -> User? {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchOne(try db.cachedStatement(sql: "SELECT * FROM users WHERE email = ?"), arguments: [email])
                    .map(Self.user)
            }
        }
    }

    func findUser(id: UUID) async throws -> User? {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchOne(
                    try db.cachedStatement(sql: "SELECT * FROM users WHERE id = ?"), arguments: [id.lowercasedString]
                )
                .map(Self.user)
            }
        }
    }

    func memberships(of user: UUID) async throws -> [Membership] {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchAll(
                    try db.cachedStatement(sql: "SELECT * FROM memberships WHERE user_id = ? ORDER BY tenant_id"),
                    arguments: [user.lowercasedString]
                ).map { row in
                    guard let tenant = TenantID(uuidString: row["tenant_id"]), let role = Role(rawValue: row["role"])
                    else {
                        throw StoreError(.corruptData, "A stored membership could not be decoded.")
                    }
                    return Membership(userID: user, tenantID: tenant, role: role)
                }
            }
        }
    }

    func insertRefreshToken(_ token: RefreshToken) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in try Self.insert(token, in: db) }
        }
    }

    func rotateRefreshToken(hash: String, replacement: @Sendable (RefreshToken) -> RefreshToken, now: Timestamp)
        async throws -> RefreshToken?
    {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                guard
                    let row = try Row.fetchOne(
                        try db.cachedStatement(sql: "SELECT * FROM refresh_tokens WHERE token_hash = ?"),
                        arguments: [hash])
                else { return nil }
                let token = try Self.token(row)
                let replaced = (row["replaced_at"] as Int64?) != nil
                let revoked = (row["revoked_at"] as Int64?) != nil
                if replaced {
                    // Reuse of a rotated token: it leaked. Revoke the whole family.
                    try db.cachedStatement(
                        sql: "UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL"
                    ).execute(
                        arguments: [now.microsecondsSinceEpoch, token.familyID.lowercasedString]
                    )
                    return nil
                }
                guard !revoked, token.expiresAt > now else { return nil }
                try db.cachedStatement(
                    sql: "UPDATE refresh_tokens SET replaced_at = ? WHERE id = ?"
                ).execute(
                    arguments: [now.microsecondsSinceEpoch, token.id.lowercasedString]
                )
                try Self.insert(replacement(token), in: db)
                return token
            }
        }
    }

    func secret(named name: String, generate: @Sendable () -> String) async throws -> String {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: "INSERT INTO platform_secrets (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING"
                ).execute(
                    arguments: [name, generate()]
                )
                return try String.fetchOne(
                    try db.cachedStatement(sql: "SELECT value FROM platform_secrets WHERE name = ?"), arguments: [name])!
            }
        }
    }

    static func insert(_ token: RefreshToken, in db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO refresh_tokens (id, family_id, user_id, tenant_id, token_hash, created_at, expires_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                token.id.lowercasedString, token.familyID.lowercasedString, token.userID.lowercasedString,
                token.tenantID.description, token.tokenHash, token.createdAt.microsecondsSinceEpoch,
                token.expiresAt.microsecondsSinceEpoch,
            ]
        )
    }

    static func token(_ row: Row) throws -> RefreshToken {
        guard let id = UUID(canonical: row["id"]), let family = UUID(canonical: row["family_id"]),
            let user = UUID(canonical: row["user_id"]), let tenant = TenantID(uuidString: row["tenant_id"])
        else { throw StoreError(.corruptData, "A stored refresh token could not be decoded.") }
        return RefreshToken(
            id: id,
            familyID: family,
            userID: user,
            tenantID: tenant,
            tokenHash: row["token_hash"],
            createdAt: Timestamp(microsecondsSinceEpoch: row["created_at"]),
            expiresAt: Timestamp(microsecondsSinceEpoch: row["expires_at"])
        )
    }

    static func user(_ row: Row) throws -> User {
        guard let id = UUID(canonical: row["id"]) else {
            throw StoreError(.corruptData, "A stored user could not be decoded.")
        }
        return User(
            id: id,
            email: row["email"],
            name: row["name"],
            passwordHash: row["password_hash"],
            isPlatformAdmin: row["is_platform_admin"],
            createdAt: Timestamp(microsecondsSinceEpoch: row["created_at"])
        )
    }
}
