import AgentplaneCore
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// Token buckets per principal and per tenant, kept in this node's memory (documented: with several
/// nodes each enforces the limit on its own share of the traffic).
final class RateLimiter: Sendable {
    private let buckets = Mutex<[String: TokenBucket]>([:])
    private let clock: any WallClock

    /// A limiter reading time from `clock`.
    init(clock: any WallClock) {
        self.clock = clock
    }

    /// Takes one token from the bucket `key` with `perMinute` capacity.
    func take(_ key: String, perMinute: Int) -> TokenBucket.Decision {
        let now = Double(clock.now().microsecondsSinceEpoch) / 1e6
        return buckets.withLock { buckets in
            var bucket = buckets[key] ?? TokenBucket(perMinute: perMinute, now: now)
            let decision = bucket.take(now: now, perMinute: perMinute)
            buckets[key] = bucket
            if buckets.count > 100_000 { buckets = buckets.filter { $0.value.tokens < $0.value.capacity } }
            return decision
        }
    }
}

/// Applies the limits to authenticated requests: the tenant's `requests_per_minute` and the
/// per-credential limit of the configuration. Platform admins are exempt from both, so that no quota of
/// the platform tenant (one `PATCH` away) can lock the operators out.
/// Every limited response carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`; a
/// refusal is a 429 problem with `Retry-After`.
struct RateLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let limiter: RateLimiter
    /// Requests per minute per credential; 0 turns the per-credential limit off.
    let perPrincipal: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let principal = RequestScope.current.principal, principal.role != .platformAdmin else {
            return try await next(request, context)
        }
        // A limit of 0 is no limit (and no bucket: a rate of zero tokens per second has no refill time).
        var checks =
            principal.tenantRequestsPerMinute > 0
            ? [("tenant:\(principal.tenantID)", principal.tenantRequestsPerMinute)] : []
        if perPrincipal > 0 { checks.append(("principal:\(principal.id)", perPrincipal)) }
        var tightest: (decision: TokenBucket.Decision, limit: Int)?
        for (key, limit) in checks {
            let decision = limiter.take(key, perMinute: limit)
            if !decision.allowed {
                throw AgentplaneError(
                    .rateLimited,
                    "Rate limit of \(limit) requests per minute exceeded; retry in \(decision.retryAfter) s.",
                    details: [
                        "limit": .int(Int64(limit)), "retry_after_seconds": .int(Int64(decision.retryAfter)),
                        "scope": .string(key.hasPrefix("tenant") ? "tenant" : "credential"),
                    ]
                )
            }
            if tightest == nil || decision.remaining < tightest!.decision.remaining { tightest = (decision, limit) }
        }
        var response = try await next(request, context)
        if let tightest {
            response.headers[.rateLimitLimit] = String(tightest.limit)
            response.headers[.rateLimitRemaining] = String(tightest.decision.remaining)
            response.headers[.rateLimitReset] = String(tightest.decision.resetAfter)
        }
        return response
    }
}

extension HTTPField.Name {
    static let rateLimitLimit = Self("RateLimit-Limit")!
    static let rateLimitRemaining = Self("RateLimit-Remaining")!
    static let rateLimitReset = Self("RateLimit-Reset")!
}
