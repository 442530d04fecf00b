import AgentplaneCore
import AgentplaneStore
import Synchronization

/// API keys this node verified recently, so a busy client costs one hash and a dictionary look-up per
/// request instead of a database read. An entry is trusted for `ttl`: a key revoked, expired by its
/// tenant's suspension or changed on any node stops working here within that bound.
final class VerifiedKeyCache: Sendable {
    /// A verified key with what authentication needs of its tenant.
    struct Entry: Sendable {
        var record: APIKeyRecord
        var tenant: TenantAccess
        var verifiedAt: Timestamp
    }

    /// How long a verification is trusted, in microseconds.
    let ttlMicroseconds: Int64
    private let entries = Mutex<[String: Entry]>([:])
    private static let capacity = 10_000

    /// A cache trusting verifications for `ttl` (zero turns caching off).
    init(ttl: Duration) {
        ttlMicroseconds = ttl.components.seconds * 1_000_000 + ttl.components.attoseconds / 1_000_000_000_000
    }

    /// The entry for `prefix` when it was verified less than `ttl` ago with this same secret hash.
    func entry(prefix: String, secretHash: String, now: Timestamp) -> Entry? {
        guard ttlMicroseconds > 0 else { return nil }
        guard let entry = entries.withLock({ $0[prefix] }),
            now.microsecondsSinceEpoch - entry.verifiedAt.microsecondsSinceEpoch < ttlMicroseconds,
            APIKeyAuthenticator.constantTimeEqual(entry.record.secretHash, secretHash)
        else { return nil }
        return entry
    }

    /// Remembers a verification.
    func store(_ entry: Entry) {
        guard ttlMicroseconds > 0 else { return }
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[entry.record.prefix] = entry
        }
    }

    /// Forgets every verification: after this node revoked a key, deleted an account or changed a
    /// tenant, its own next request re-reads the database.
    func removeAll() {
        entries.withLock { $0.removeAll(keepingCapacity: true) }
    }

    /// Notes a recorded use, so the coarse last-use write happens once a minute, not on every hit.
    func noteUse(prefix: String, at time: Timestamp) {
        entries.withLock { $0[prefix]?.record.lastUsedAt = time }
    }
}
