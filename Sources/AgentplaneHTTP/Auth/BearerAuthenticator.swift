import AgentplaneCore
import AgentplaneStore
import Crypto
import Foundation

/// Turns `Authorization: Bearer …` into a principal: an API key (`ap_…`) or an access token (a JWT of
/// Agentplane or of the configured OIDC provider).
struct BearerAuthenticator: Sendable {
    let keys: APIKeyAuthenticator
    let tokens: AccessTokens
    let store: any Store

    /// The principal; `tenantHeader` (`X-Tenant-ID` or `x-org-id`) lets a user act in another tenant
    /// they are a member of.
    func authenticate(authorization: String?, tenantHeader: String?) async throws -> Principal {
        guard let authorization else {
            throw AgentplaneError(.unauthenticated, "Send `Authorization: Bearer <api key or access token>`.")
        }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer", parts[1].utf8.count <= 8192 else {
            throw AgentplaneError(.unauthenticated, "The Authorization header must use the Bearer scheme.")
        }
        let credential = String(parts[1].trimmingCharacters(in: .whitespaces))
        if credential.hasPrefix("ap_") { return try await keys.authenticate(key: credential) }
        return try await user(from: credential, tenantHeader: tenantHeader)
    }

    /// The principal a stream ticket stands for: its tenant and role, `events:read` at most.
    func authenticate(ticket: String) async throws -> Principal {
        let claims = try await tokens.verifyTicket(ticket)
        guard let tenantText = claims.tenant, let tenant = TenantID(uuidString: tenantText),
            let role = claims.role.flatMap(Role.init(rawValue:))
        else { throw AgentplaneError(.unauthenticated, "The ticket is invalid or expired; ask for a new one.") }
        // The tenant is checked as for any credential: a suspended tenant's tickets stop working at once.
        guard let stored = try await store.tenants.find(id: tenant) else {
            throw AgentplaneError(.unauthenticated, "The ticket is invalid or expired; ask for a new one.")
        }
        guard stored.status == .active else {
            throw AgentplaneError(.tenantSuspended, "The credential's tenant is suspended.")
        }
        return Principal(
            id: Self.stableID(for: claims.sub.value), tenantID: tenant, role: role, scopes: claims.scopes ?? [],
            keyPrefix: nil, subject: claims.sub.value, tenantRequestsPerMinute: stored.quotas.requestsPerMinute)
    }

    static func stableID(for subject: String) -> UUID {
        var bytes = Array(SHA256.hash(data: Data(subject.utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            )
        )
    }

    private func user(from token: String, tenantHeader: String?) async throws -> Principal {
        let invalid = AgentplaneError(.unauthenticated, "The access token is invalid or expired.")
        let (claims, external) = try await tokens.verify(token)
        guard let tenantText = claims.tenant, let tenantID = TenantID(uuidString: tenantText),
            let role = claims.role.flatMap(Role.init(rawValue:)) ?? (external ? .member : nil),
            !(external && role == .platformAdmin)
        else { throw invalid }
        var principal = Principal(
            // A provider's `sub` need not be a UUID: derive a stable one, so per-credential limits and
            // idempotency keys follow the same user across requests.
            id: UUID(canonical: claims.sub.value) ?? Self.stableID(for: claims.sub.value),
            tenantID: tenantID,
            role: role,
            scopes: (claims.scopes ?? Scope.ceiling(for: role).sorted()).filter {
                Scope.ceiling(for: role).contains($0)
            },
            keyPrefix: nil,
            subject: "user:\(claims.sub.value)",
            tenantRequestsPerMinute: 0
        )
        // A user may switch to another tenant they belong to (seed 002's x-org-id).
        if let header = tenantHeader, let named = TenantID(uuidString: header), named != tenantID,
            role != .platformAdmin
        {
            guard !external, let userID = UUID(canonical: claims.sub.value),
                let membership = try await store.identity.memberships(of: userID).first(where: { $0.tenantID == named })
            else { throw AgentplaneError(.notFound, "No such tenant.") }
            principal.tenantID = named
            principal.role = membership.role
            principal.scopes = Scope.ceiling(for: membership.role).sorted()
        }
        guard let tenant = try await store.tenants.find(id: principal.tenantID) else { throw invalid }
        guard tenant.status == .active else {
            throw AgentplaneError(.tenantSuspended, "The credential's tenant is suspended.")
        }
        principal.tenantRequestsPerMinute = tenant.quotas.requestsPerMinute
        return principal
    }
}
