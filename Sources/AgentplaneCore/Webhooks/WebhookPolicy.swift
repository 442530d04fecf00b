/// How the platform delivers webhooks: attempts and their backoff, the request timeout, when a failing
/// subscription is disabled, and how long a rotated secret keeps signing. One value for the whole server.
public struct WebhookPolicy: Sendable, Hashable {
    /// Attempts of one delivery before it is dead (13: twelve waits, about a day in all).
    public var maxAttempts: Int
    /// The wait between attempts: exponential with jitter from 60 s, capped at 8 h. Twelve waits of
    /// 1, 2, 4 … 256 min then 8 h, 8 h, 8 h, each jittered into the upper half of its value, add up to
    /// between 16 and 33 hours (about 24 on average).
    public var backoff: Backoff
    /// How long one POST may take (connect, send, answer).
    public var timeout: Duration
    /// Dead deliveries in a row after which the webhook is disabled (with `webhook.disabled`).
    public var disableAfter: Int
    /// How long the secret replaced by a rotation keeps signing, next to the new one.
    public var rotationGraceSeconds: Int64
    /// The longest wait between looks at the event log for new events to deliver.
    public var pollInterval: Duration

    /// The defaults (13 attempts over about a day, 10 s timeout, disabled after 10 dead deliveries in a row,
    /// 24 h grace after a rotation, a look at the log every 250 ms).
    public init(
        maxAttempts: Int = 13,
        backoff: Backoff = Backoff(strategy: .exponentialJitter, baseSeconds: 60, capSeconds: 8 * 3600),
        timeout: Duration = .seconds(10), disableAfter: Int = 10, rotationGraceSeconds: Int64 = 86_400,
        pollInterval: Duration = .milliseconds(250)
    ) {
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.timeout = timeout
        self.disableAfter = disableAfter
        self.rotationGraceSeconds = rotationGraceSeconds
        self.pollInterval = pollInterval
    }

    /// The longest and the shortest time from the first attempt to the last, in seconds (the schedule the
    /// docs state): each wait is between half and all of its exponential value.
    public var scheduleSpanSeconds: (shortest: Double, longest: Double) {
        var shortest = 0.0
        var longest = 0.0
        for attempt in 1..<max(maxAttempts, 1) {
            shortest += Double(backoff.delayMicroseconds(afterAttempt: attempt, unit: 0)) / 1_000_000
            longest += Double(backoff.delayMicroseconds(afterAttempt: attempt, unit: 1)) / 1_000_000
        }
        return (shortest, longest)
    }
}
