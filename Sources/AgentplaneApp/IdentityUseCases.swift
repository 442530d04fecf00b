import AgentplaneCore
import AgentplaneStore
import Foundation

/// How a caller signs in.
public enum SignInGrant: Sendable, Hashable {
    /// Email and password, optionally naming the tenant.
    case password(email: String?, password: String?, tenant: TenantID?)
    /// A refresh token from an earlier sign-in (rotated: each works once).
    case refreshToken(String?)
}

/// Who signed in, where, with which role, and the refresh token of the new pair.
public struct SignedIn: Sendable, Hashable {
    /// The user.
    public var user: UUID
    /// The tenant the session acts in.
    public var tenant: TenantID
    /// The role there.
    public var role: Role
    /// The new refresh token (shown once).
    public var refreshToken: String
}

extension UseCases {
    /// Creates a local user, member of a tenant or a platform admin.
    public func createUser(_ command: CreateUser, by caller: Caller) async throws -> User {
        let errors = IdentityDecisions.userErrors(command)
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        var tenant: TenantID?
        if let slug = command.tenantSlug {
            guard let found = try await store.tenants.find(slug: slug), found.id != .platform else {
                throw AgentplaneError(
                    .notFound, "No tenant with the slug `\(slug)`.",
                    fieldErrors: [FieldError(pointer: "/tenant", message: "does not exist")])
            }
            tenant = found.id
        }
        let hash = try await passwords.hash(command.password)
        let (user, memberships, event) = try IdentityDecisions.createUser(
            command, tenant: tenant, passwordHash: hash, context: caller.eventContext, now: clock.now())
        try await mappingConflicts([.userEmail: ("A user with the email `\(user.email)` already exists.", "/email")]) {
            try await store.identity.createUser(user, memberships: memberships, event: event)
        }
        return user
    }

    /// Signs a user in (password or refresh token) into an active tenant.
    public func signIn(_ grant: SignInGrant) async throws -> SignedIn {
        let signedIn: SignedIn
        switch grant {
        case .password(let email, let password, let tenant):
            signedIn = try await passwordSignIn(email: email, password: password, tenant: tenant)
        case .refreshToken(let presented):
            signedIn = try await refresh(presented)
        }
        guard let tenant = try await store.tenants.find(id: signedIn.tenant) else {
            throw AgentplaneError(.unauthenticated, "The tenant no longer exists.")
        }
        guard tenant.status == .active else { throw AgentplaneError(.tenantSuspended, "The tenant is suspended.") }
        return signedIn
    }

    private func passwordSignIn(email: String?, password: String?, tenant: TenantID?) async throws -> SignedIn {
        guard let email = email?.lowercased(), let password else {
            var missing: [FieldError] = []
            if email == nil { missing.append(FieldError(pointer: "/email", message: "is required")) }
            if password == nil { missing.append(FieldError(pointer: "/password", message: "is required")) }
            throw AgentplaneError.validation(missing)
        }
        let invalid = AgentplaneError(.unauthenticated, "The email or password is wrong.")
        // An email with NUL cannot exist (PostgreSQL cannot even compare one): an unknown user, same cost.
        let user = email.unicodeScalars.contains("\u{0}") ? nil : try await store.identity.findUser(email: email)
        // Always run the hash, so an unknown email takes as long as a wrong password.
        let matches = try await passwords.verify(password, hash: user?.passwordHash)
        guard let user, matches else { throw invalid }
        let memberships = try await store.identity.memberships(of: user.id)
        guard
            let (target, role) = try IdentityDecisions.signInTarget(
                user: user, memberships: memberships, requested: tenant)
        else { throw invalid }
        let refresh = Self.newRefreshToken()
        try await store.identity.insertRefreshToken(
            refreshRecord(refresh, family: UUIDv7.make(at: clock.now()), user: user.id, tenant: target))
        return SignedIn(user: user.id, tenant: target, role: role, refreshToken: refresh)
    }

    private func refresh(_ presented: String?) async throws -> SignedIn {
        guard let presented else {
            throw AgentplaneError.validation([FieldError(pointer: "/refresh_token", message: "is required")])
        }
        let replacement = Self.newRefreshToken()
        let rotated = try await store.identity.rotateRefreshToken(
            hash: SecretDigest.sha256Hex(presented),
            replacement: { [self] old in
                refreshRecord(replacement, family: old.familyID, user: old.userID, tenant: old.tenantID)
            },
            now: clock.now()
        )
        guard let rotated, let user = try await store.identity.findUser(id: rotated.userID) else {
            throw AgentplaneError(.unauthenticated, "The refresh token is invalid, expired or already used.")
        }
        let memberships = try await store.identity.memberships(of: user.id)
        guard let role = IdentityDecisions.refreshedRole(user: user, memberships: memberships, tenant: rotated.tenantID)
        else { throw AgentplaneError(.unauthenticated, "The user no longer belongs to the tenant.") }
        return SignedIn(user: user.id, tenant: rotated.tenantID, role: role, refreshToken: replacement)
    }

    static func newRefreshToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return "rt_" + String((0..<48).map { _ in alphabet.randomElement(using: &generator)! })
    }

    func refreshRecord(_ token: String, family: UUID, user: UUID, tenant: TenantID) -> RefreshToken {
        let now = clock.now()
        return RefreshToken(
            id: UUIDv7.make(at: now),
            familyID: family,
            userID: user,
            tenantID: tenant,
            tokenHash: SecretDigest.sha256Hex(token),
            createdAt: now,
            expiresAt: Timestamp(
                microsecondsSinceEpoch: now.microsecondsSinceEpoch + IdentityDecisions.refreshLifetimeMicroseconds)
        )
    }
}
