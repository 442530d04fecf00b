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

@Suite struct ScopeTests {
    @Test func ceilingsFollowTheRoles() {
        #expect(Scope.ceiling(for: .admin).contains("admin:*"))
        #expect(!Scope.ceiling(for: .member).contains("audit:read"))
        #expect(!Scope.ceiling(for: .viewer).contains("audit:read"))
        #expect(Scope.ceiling(for: .viewer).allSatisfy { $0.hasSuffix(":read") })
        #expect(Scope.ceiling(for: .viewer).isSubset(of: Scope.ceiling(for: .member)))
    }

    @Test func onlyHeldScopesAreGrantableWithoutAdmin() {
        #expect(Scope.grantable(by: ["events:read"], role: .member) == ["events:read"])
        #expect(Scope.grantable(by: ["admin:*"], role: .viewer) == Scope.ceiling(for: .viewer))
        #expect(Scope.grantable(by: ["audit:read"], role: .viewer).isEmpty)
    }
}
