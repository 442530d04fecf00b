import AgentplaneAPI
import AgentplaneCore
import AgentplaneStore
import Crypto
import Foundation

extension APIHandler {
    func createToken(_ input: Operations.CreateToken.Input) async throws -> Operations.CreateToken.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let signedIn: SignIn
        switch body.grantType {
        case .password:
            signedIn = try await passwordGrant(body)
        case .refreshToken:
            signedIn = try await refreshGrant(body)
        }
        let tenant = try await store.tenants.find(id: signedIn.tenant)
        guard let tenant else { throw AgentplaneError(.unauthenticated, "The tenant no longer exists.") }
        guard tenant.status == .active else { throw AgentplaneError(.tenantSuspended, "The tenant is suspended.") }
        let accessToken = try await tokens.issue(user: signedIn.user, tenant: signedIn.tenant, role: signedIn.role)
        return .ok(
            .init(
                body: .json(
                    .init(
                        accessToken: accessToken,
                        tokenType: .bearer,
                        expiresIn: Int(await tokens.lifetime.components.seconds),
                        refreshToken: signedIn.refreshToken,
                        tenantId: signedIn.tenant.description,
                        role: signedIn.role.rawValue
                    )
                )
            )
        )
    }

    /// Who signed in, where, and the refresh token of the new pair.
    struct SignIn {
        var user: UUID
        var tenant: TenantID
        var role: Role
        var refreshToken: String
    }

    private func passwordGrant(_ body: Components.Schemas.TokenRequest) async throws -> SignIn {
        let (user, tenant, role) = try await passwordSignIn(body)
        let refresh = Self.newRefreshToken()
        try await store.identity.insertRefreshToken(
            Self.refreshRecord(refresh, family: UUIDv7.make(), user: user, tenant: tenant)
        )
        return SignIn(user: user, tenant: tenant, role: role, refreshToken: refresh)
    }

    private func passwordSignIn(_ body: Components.Schemas.TokenRequest) async throws -> (UUID, TenantID, Role) {
        guard let email = body.email?.lowercased(), let password = body.password else {
            var missing: [FieldError] = []
            if body.email == nil { missing.append(FieldError(pointer: "/email", message: "is required")) }
            if body.password == nil { missing.append(FieldError(pointer: "/password", message: "is required")) }
            throw AgentplaneError.validation(missing)
        }
        let invalid = AgentplaneError(.unauthenticated, "The email or password is wrong.")
        // An email with NUL cannot exist (PostgreSQL cannot even compare one): an unknown user, same cost.
        let user = email.unicodeScalars.contains("\u{0}") ? nil : try await store.identity.findUser(email: email)
        // Always run bcrypt, so an unknown email takes as long as a wrong password.
        let matches = try await passwordHasher.verify(password, hash: user?.passwordHash)
        guard let user, matches else { throw invalid }
        let memberships = try await store.identity.memberships(of: user.id)
        let requested = try body.tenantId.map { text in
            guard let tenant = TenantID(uuidString: text) else {
                throw AgentplaneError.validation([FieldError(pointer: "/tenant_id", message: "must be a UUID")])
            }
            return tenant
        }
        if user.isPlatformAdmin, requested == nil || requested == .platform {
            return (user.id, .platform, .platformAdmin)
        }
        if let requested {
            guard let membership = memberships.first(where: { $0.tenantID == requested }) else { throw invalid }
            return (user.id, requested, membership.role)
        }
        guard memberships.count == 1, let only = memberships.first else {
            throw AgentplaneError(
                .validationFailed,
                memberships.isEmpty
                    ? "The user belongs to no tenant yet."
                    : "The user belongs to \(memberships.count) tenants: name one.",
                fieldErrors: [FieldError(pointer: "/tenant_id", message: "is required for this user")]
            )
        }
        return (user.id, only.tenantID, only.role)
    }

    private func refreshGrant(_ body: Components.Schemas.TokenRequest) async throws -> SignIn {
        guard let presented = body.refreshToken else {
            throw AgentplaneError.validation([FieldError(pointer: "/refresh_token", message: "is required")])
        }
        let replacement = Self.newRefreshToken()
        let rotated = try await store.identity.rotateRefreshToken(
            hash: Self.hash(presented),
            replacement: { old in
                Self.refreshRecord(replacement, family: old.familyID, user: old.userID, tenant: old.tenantID)
            },
            now: .now()
        )
        guard let rotated, let user = try await store.identity.findUser(id: rotated.userID) else {
            throw AgentplaneError(.unauthenticated, "The refresh token is invalid, expired or already used.")
        }
        let role: Role
        if user.isPlatformAdmin, rotated.tenantID == .platform {
            role = .platformAdmin
        } else if let membership = try await store.identity.memberships(of: user.id).first(where: {
            $0.tenantID == rotated.tenantID
        }) {
            role = membership.role
        } else {
            throw AgentplaneError(.unauthenticated, "The user no longer belongs to the tenant.")
        }
        return SignIn(user: user.id, tenant: rotated.tenantID, role: role, refreshToken: replacement)
    }

    static func newRefreshToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return "rt_" + String((0..<48).map { _ in alphabet.randomElement(using: &generator)! })
    }

    static func hash(_ token: String) -> String {
        Digest.sha256Hex(token)
    }

    static func refreshRecord(_ token: String, family: UUID, user: UUID, tenant: TenantID) -> RefreshToken {
        let now = Timestamp.now()
        return RefreshToken(
            id: UUIDv7.make(at: now),
            familyID: family,
            userID: user,
            tenantID: tenant,
            tokenHash: hash(token),
            createdAt: now,
            expiresAt: Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch + 30 * 86_400_000_000)
        )
    }
}
