import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import Crypto
import Foundation

/// Verifies `Authorization: Bearer ap_…` keys against their stored hashes.
package struct APIKeyAuthenticator: Sendable {
    let keys: any APIKeyStore
    let clock: any WallClock
    let cache: VerifiedKeyCache

    /// How long a node trusts a key it verified: the bound on how long a revoked key keeps working.
    package static let defaultCacheTTL: Duration = .seconds(5)

    /// The hex SHA-256 of a key: keys are long random secrets, so a fast hash is safe and keeps
    /// verification cheap on every request (passwords, unlike keys, get bcrypt).
    package static func hash(_ token: APIKeyToken) -> String {
        SecretDigest.hash(token)
    }

    /// The principal for an `Authorization` header value; throws 401 for anything else.
    package func authenticate(authorization: String?) async throws -> Principal {
        guard let authorization else {
            throw AgentplaneError(.unauthenticated, "Send `Authorization: Bearer <api key>`.")
        }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw AgentplaneError(.unauthenticated, "The Authorization header must use the Bearer scheme.")
        }
        return try await authenticate(key: String(parts[1].trimmingCharacters(in: .whitespaces)))
    }

    /// The principal for an API key's text; throws 401/403.
    package func authenticate(key text: String) async throws -> Principal {
        let now = clock.now()
        let invalid = AgentplaneError(.unauthenticated, "The API key is invalid, expired or revoked.")
        guard let token = APIKeyToken(parsing: text) else { throw invalid }
        let secretHash = Self.hash(token)
        let record: APIKeyRecord
        let tenant: TenantAccess
        if let cached = cache.entry(prefix: token.prefix, secretHash: secretHash, now: now) {
            (record, tenant) = (cached.record, cached.tenant)
        } else {
            guard let (found, access) = try await keys.find(prefix: token.prefix),
                Self.constantTimeEqual(found.secretHash, secretHash), found.revokedAt == nil, let access
            else { throw invalid }
            (record, tenant) = (found, access)
            cache.store(VerifiedKeyCache.Entry(record: record, tenant: tenant, verifiedAt: now))
        }
        guard record.expiresAt.map({ $0 > now }) ?? true else { throw invalid }
        guard tenant.status == .active else {
            throw AgentplaneError(.tenantSuspended, "The credential's tenant is suspended.")
        }
        // Coarse last-use tracking: at most one write per key per minute.
        if record.lastUsedAt.map({ now.microsecondsSinceEpoch - $0.microsecondsSinceEpoch > 60_000_000 }) ?? true {
            try await keys.recordUse(
                id: record.id,
                at: now,
                notBefore: Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch - 60_000_000)
            )
            cache.noteUse(prefix: record.prefix, at: now)
        }
        let ceiling = Scope.ceiling(for: record.role)
        return Principal(
            id: record.id,
            tenantID: record.tenantID,
            role: record.role,
            // A key never holds more than its role allows, whatever was stored.
            scopes: record.scopes.filter(ceiling.contains),
            keyPrefix: record.prefix,
            subject: "api_key:\(record.prefix)",
            tenantRequestsPerMinute: tenant.requestsPerMinute
        )
    }

    static func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        guard left.count == right.count else { return false }
        return zip(left, right).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
