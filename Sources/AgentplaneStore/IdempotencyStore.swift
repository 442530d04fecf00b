import AgentplaneCore

/// The first response to a request carrying an `Idempotency-Key`, kept for replay.
public struct IdempotencyRecord: Sendable, Hashable {
    /// A hash of the request (method, path, query, tenant header, body).
    public var fingerprint: String
    /// Nil while the first request is still running.
    public var response: StoredResponse?
    /// After this instant the key may be used afresh.
    public var expiresAt: Timestamp

    /// Creates a record.
    public init(fingerprint: String, response: StoredResponse?, expiresAt: Timestamp) {
        self.fingerprint = fingerprint
        self.response = response
        self.expiresAt = expiresAt
    }
}

/// A response as it was sent, byte for byte.
public struct StoredResponse: Sendable, Hashable {
    /// HTTP status.
    public var status: Int
    /// The headers worth replaying (content type, ETag, Location).
    public var headers: [String: String]
    /// The body.
    public var body: [UInt8]

    /// Creates a stored response.
    public init(status: Int, headers: [String: String], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Which idempotency key: keys are scoped per tenant and principal.
public struct IdempotencyScope: Sendable, Hashable {
    /// The tenant of the caller.
    public var tenantID: TenantID
    /// The caller.
    public var principalID: String
    /// The client's `Idempotency-Key`.
    public var key: String

    /// Creates a scope.
    public init(tenantID: TenantID, principalID: String, key: String) {
        self.tenantID = tenantID
        self.principalID = principalID
        self.key = key
    }
}

/// Persistence of idempotency keys (seed 002): one claim wins; the others replay or wait.
public protocol IdempotencyStore: Sendable {
    /// Claims the key for a request with `fingerprint`. Returns nil when this call won the claim (the
    /// caller runs the request), else the record that holds it. Expired records are replaced.
    func claim(_ scope: IdempotencyScope, fingerprint: String, now: Timestamp, expiresAt: Timestamp) async throws
        -> IdempotencyRecord?
    /// Stores the response of the claimed request.
    func complete(_ scope: IdempotencyScope, response: StoredResponse) async throws
    /// Gives up a claim whose request failed, so a retry can run it.
    func release(_ scope: IdempotencyScope) async throws
    /// Deletes records that expired before `now` (at most `limit`); returns how many.
    func purgeExpired(now: Timestamp, limit: Int) async throws -> Int
}
