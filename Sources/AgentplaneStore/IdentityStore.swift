import AgentplaneCore
import Foundation

/// Persistence of users, their memberships, refresh tokens and the platform's generated secrets.
public protocol IdentityStore: Sendable {
    /// Inserts a user with memberships; `uniqueViolation("users_email")` when the email is taken.
    func createUser(_ user: User, memberships: [Membership], event: NewEvent) async throws
    /// The user with this (lowercased) email.
    func findUser(email: String) async throws -> User?
    /// The user with this id.
    func findUser(id: UUID) async throws -> User?
    /// The user's memberships.
    func memberships(of user: UUID) async throws -> [Membership]
    /// Stores a refresh token.
    func insertRefreshToken(_ token: RefreshToken) async throws
    /// Exchanges the token with hash `hash` for `replacement` (same family). Returns the old token
    /// when it was current; nil when it is unknown, expired or revoked. Using an already replaced
    /// token revokes its whole family and returns nil.
    func rotateRefreshToken(hash: String, replacement: @Sendable (RefreshToken) -> RefreshToken, now: Timestamp)
        async throws -> RefreshToken?
    /// The secret named `name`, created from `generate()` the first time (shared by every node).
    func secret(named name: String, generate: @Sendable () -> String) async throws -> String
}
