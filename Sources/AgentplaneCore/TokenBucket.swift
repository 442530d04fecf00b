/// A token bucket: `capacity` requests at once, refilled at `capacity` per minute. Pure state; the
/// caller supplies the time, so it is tested without clocks.
public struct TokenBucket: Sendable, Hashable {
    /// Most tokens held (the burst size), equal to the per-minute limit.
    public var capacity: Double
    /// Tokens now.
    public var tokens: Double
    /// When `tokens` was last brought up to date, in seconds on the caller's clock.
    public var updatedAt: Double

    /// A full bucket for `perMinute` requests.
    public init(perMinute: Int, now: Double) {
        self.capacity = Double(perMinute)
        self.tokens = Double(perMinute)
        self.updatedAt = now
    }

    /// The outcome of asking for one request.
    public struct Decision: Sendable, Hashable {
        /// Whether the request may proceed.
        public var allowed: Bool
        /// Whole tokens left after this request.
        public var remaining: Int
        /// Seconds until a token is available again (0 when one is).
        public var retryAfter: Int
        /// Seconds until the bucket is full again.
        public var resetAfter: Int
    }

    /// Takes a token if there is one.
    public mutating func take(now: Double, perMinute: Int) -> Decision {
        let rate = Double(perMinute) / 60
        capacity = Double(perMinute)
        tokens = min(capacity, tokens + max(0, now - updatedAt) * rate)
        updatedAt = now
        let allowed = tokens >= 1
        if allowed { tokens -= 1 }
        let retryAfter = allowed ? 0 : Int(((1 - tokens) / rate).rounded(.up))
        return Decision(
            allowed: allowed,
            remaining: Int(tokens.rounded(.down)),
            retryAfter: retryAfter,
            resetAfter: Int(((capacity - tokens) / rate).rounded(.up))
        )
    }
}
