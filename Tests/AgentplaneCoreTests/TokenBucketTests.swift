import AgentplaneCore
import Testing

@Suite struct TokenBucketTests {
    @Test func allowsABurstThenRefillsAtTheRate() {
        var bucket = TokenBucket(perMinute: 3, now: 0)
        #expect((0..<3).map { _ in bucket.take(now: 0, perMinute: 3).allowed } == [true, true, true])
        let refused = bucket.take(now: 0, perMinute: 3)
        #expect(!refused.allowed)
        #expect(refused.retryAfter == 20)  // one token every 20 s
        #expect(!bucket.take(now: 19, perMinute: 3).allowed)
        #expect(bucket.take(now: 40, perMinute: 3).allowed)
        #expect(bucket.take(now: 1000, perMinute: 3).remaining == 2)  // never more than the capacity
    }

    @Test func aLoweredLimitTakesEffectAtOnce() {
        var bucket = TokenBucket(perMinute: 100, now: 0)
        _ = bucket.take(now: 0, perMinute: 100)
        let decision = bucket.take(now: 0, perMinute: 2)
        #expect(decision.allowed)
        #expect(decision.remaining <= 1)
    }
}
