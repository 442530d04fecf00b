import AgentplaneCore
import Foundation

/// Persistence of API keys.
public protocol APIKeyStore: Sendable {
    /// Inserts `key` and appends `event` in the same transaction.
    /// Throws `uniqueViolation` for a taken prefix, or a second bootstrap key.
    func insert(_ key: APIKeyRecord, event: NewEvent) async throws
    /// The key with this prefix, if any (revoked and expired keys included; the caller decides), with
    /// what the request path needs of its tenant (nil when the tenant no longer exists).
    func find(prefix: String) async throws -> (key: APIKeyRecord, tenant: TenantAccess?)?
    /// Whether the first-start platform-admin key has been created.
    func bootstrapKeyExists() async throws -> Bool
    /// Records a use of the key, unless one was recorded after `notBefore`.
    func recordUse(id: UUID, at time: Timestamp, notBefore: Timestamp) async throws
}

/// What authenticating a request needs to know of the credential's tenant, read with the key.
public struct TenantAccess: Sendable, Hashable {
    /// Whether its credentials work.
    public var status: TenantStatus
    /// Its rate limit.
    public var requestsPerMinute: Int

    /// Creates the value.
    public init(status: TenantStatus, requestsPerMinute: Int) {
        self.status = status
        self.requestsPerMinute = requestsPerMinute
    }
}
