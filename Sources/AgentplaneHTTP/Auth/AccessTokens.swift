import AgentplaneCore
import Foundation
import JWTKit

/// The claims of an access token: Agentplane's own (HS256) or an external OIDC provider's
/// (RS256/ES256 from its JWKS). `org_id` is accepted as an alias of `tenant_id` (seed 002's Clerk).
package struct AccessClaims: JWTPayload {
    package var sub: SubjectClaim
    package var tenantID: String?
    package var orgID: String?
    package var role: String?
    package var scopes: [String]?
    package var exp: ExpirationClaim
    package var iat: IssuedAtClaim?
    package var nbf: NotBeforeClaim?
    package var jti: IDClaim?
    package var iss: IssuerClaim?
    package var aud: AudienceClaim?

    /// Creates claims.
    package init(
        sub: SubjectClaim,
        tenantID: String?,
        orgID: String?,
        role: String?,
        scopes: [String]?,
        exp: ExpirationClaim,
        iat: IssuedAtClaim?,
        nbf: NotBeforeClaim?,
        jti: IDClaim?,
        iss: IssuerClaim?,
        aud: AudienceClaim?
    ) {
        self.sub = sub
        self.tenantID = tenantID
        self.orgID = orgID
        self.role = role
        self.scopes = scopes
        self.exp = exp
        self.iat = iat
        self.nbf = nbf
        self.jti = jti
        self.iss = iss
        self.aud = aud
    }

    enum CodingKeys: String, CodingKey {
        case sub, role, scopes, exp, iat, nbf, jti, iss, aud
        case tenantID = "tenant_id"
        case orgID = "org_id"
    }

    package func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        try nbf?.verifyNotBefore()
    }

    /// `tenant_id`, else `org_id`.
    package var tenant: String? { tenantID ?? orgID }
}

/// Where external tokens come from: a JWKS and the issuer and audience they must name.
package struct OIDCSettings: Sendable {
    /// The provider's JSON Web Key Set (JSON text).
    package var jwks: String
    /// Required `iss`.
    package var issuer: String
    /// Required member of `aud`.
    package var audience: String

    /// Creates the settings.
    package init(jwks: String, issuer: String, audience: String) {
        self.jwks = jwks
        self.issuer = issuer
        self.audience = audience
    }
}

/// Issues and verifies access tokens. Configured once the database is ready (the signing secret may
/// live there), before the server accepts requests.
package actor AccessTokens {
    /// `iss` of the tokens Agentplane issues.
    package static let issuer = "agentplane"
    /// Lifetime of an access token.
    package let lifetime: Duration
    private var local: JWTKeyCollection?
    private var external: (keys: JWTKeyCollection, settings: OIDCSettings)?

    /// Creates an unconfigured token service.
    package init(lifetime: Duration = .seconds(900)) {
        self.lifetime = lifetime
    }

    /// Loads the HS256 secret and, optionally, an OIDC provider's keys.
    package func configure(secret: String, oidc: OIDCSettings?) async throws {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256, kid: "agentplane")
        local = keys
        if let oidc {
            let externalKeys = JWTKeyCollection()
            try await externalKeys.add(jwksJSON: oidc.jwks)
            external = (externalKeys, oidc)
        }
    }

    /// A signed access token for a user acting in `tenant` with `role`.
    package func issue(user: UUID, tenant: TenantID, role: Role, now: Date = Date()) async throws -> String {
        guard let local else { throw AgentplaneError(.internalError, "The token service is not ready.") }
        let claims = AccessClaims(
            sub: .init(value: user.lowercasedString),
            tenantID: tenant.description,
            orgID: nil,
            role: role.rawValue,
            scopes: Scope.ceiling(for: role).sorted(),
            exp: .init(value: now.addingTimeInterval(Double(lifetime.components.seconds))),
            iat: .init(value: now),
            nbf: nil,
            jti: .init(value: UUIDv7.make().lowercasedString),
            iss: .init(value: Self.issuer),
            aud: nil
        )
        return try await local.sign(claims, kid: "agentplane")
    }

    /// The audience of stream tickets (never accepted as access tokens).
    package static let ticketAudience = "agentplane-stream"
    /// Lifetime of a stream ticket.
    package static let ticketLifetime: TimeInterval = 60

    /// A ticket standing in for `principal` on the event stream and the WebSocket: `events:read` only, 60 s.
    package func issueTicket(for principal: Principal, now: Date = Date()) async throws -> (String, Date) {
        guard let local else { throw AgentplaneError(.internalError, "The token service is not ready.") }
        let expires = now.addingTimeInterval(Self.ticketLifetime)
        let claims = AccessClaims(
            sub: .init(value: principal.subject), tenantID: principal.tenantID.description, orgID: nil,
            // The ticket acts in its one tenant: a platform admin's is a tenant admin's there.
            role: (principal.role == .platformAdmin ? Role.admin : principal.role).rawValue,
            scopes: principal.scopes.filter { $0 == "events:read" || $0 == "admin:*" }.isEmpty ? [] : ["events:read"],
            exp: .init(value: expires), iat: .init(value: now), nbf: nil,
            jti: .init(value: UUIDv7.make().lowercasedString), iss: .init(value: Self.issuer),
            aud: .init(value: [Self.ticketAudience]))
        return (try await local.sign(claims, kid: "agentplane"), expires)
    }

    /// The claims of a valid, current stream ticket; 401 otherwise.
    package func verifyTicket(_ ticket: String) async throws -> AccessClaims {
        guard let local, let claims = try? await local.verify(ticket, as: AccessClaims.self),
            claims.iss?.value == Self.issuer, claims.aud?.value == [Self.ticketAudience]
        else { throw AgentplaneError(.unauthenticated, "The ticket is invalid or expired; ask for a new one.") }
        return claims
    }

    /// The verified claims of `token`; throws 401 for anything that is not a valid, current token of
    /// Agentplane or of the configured provider (wrong signature, `alg: none`, expired, not yet
    /// valid, wrong issuer or audience).
    package func verify(_ token: String) async throws -> (claims: AccessClaims, external: Bool) {
        let invalid = AgentplaneError(.unauthenticated, "The access token is invalid or expired.")
        if let local, let claims = try? await local.verify(token, as: AccessClaims.self) {
            // A stream ticket is not an access token.
            guard claims.iss?.value == Self.issuer, claims.aud == nil else { throw invalid }
            return (claims, false)
        }
        if let (keys, settings) = external, let claims = try? await keys.verify(token, as: AccessClaims.self) {
            guard claims.iss?.value == settings.issuer, claims.aud?.value.contains(settings.audience) == true else {
                throw invalid
            }
            return (claims, true)
        }
        throw invalid
    }
}
