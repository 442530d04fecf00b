import AgentplaneCore
import AgentplaneTesting
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite struct RateLimitTests {
    @Test(arguments: TestBackend.allCases)
    func tenantQuotaAndPerCredentialLimitAnswer429WithRetryAfter(backend: TestBackend) async throws {
        try await withLiveServer(backend, requestsPerMinutePerCredential: 3) { client, _ in
            let acme = try await TenantFixture.make(client, slug: "acme")
            // Per credential: 3 per minute.
            var statuses: [Int] = []
            var last: TestResponse?
            for _ in 0..<4 {
                let response = try await client.request(.get, "/api/v1/events", key: acme.adminKey)
                statuses.append(Int(response.status.code))
                last = response
            }
            #expect(statuses == [200, 200, 200, 429])
            let refused = try #require(last)
            #expect(refused.headers[.retryAfter].flatMap(Int.init).map { $0 > 0 } == true)
            #expect(try refused.json()["code"] == "RATE_LIMITED")
            #expect(try refused.json()["details"]?["scope"] == "credential")
            // The platform admin is exempt from the per-credential limit.
            for _ in 0..<5 { #expect(try await client.request(.get, "/api/v1/events").status == .ok) }

            // Per tenant: the tenant's quota, shared by all its credentials.
            let slow = try await client.request(
                .post,
                "/api/v1/tenants",
                json: #"{"slug":"slow","name":"Slow","quotas":{"requests_per_minute":2}}"#
            )
            let slowID = try #require(try slow.json()["id"]?.stringValue)
            let account = try await client.request(
                .post,
                "/api/v1/service-accounts",
                json: #"{"name":"bot","role":"viewer"}"#,
                headers: [.tenantID: slowID]
            )
            let accountID = try #require(try account.json()["id"]?.stringValue)
            var keys: [String] = []
            for _ in 0..<2 {
                let key = try await client.request(
                    .post,
                    "/api/v1/service-accounts/\(accountID)/keys",
                    json: "{}",
                    headers: [.tenantID: slowID]
                )
                keys.append(try #require(try key.json()["key"]?.stringValue))
            }
            let first = try await client.request(.get, "/api/v1/events", key: keys[0])
            #expect(first.status == .ok)
            #expect(first.headers[.rateLimitLimit] == "2")
            #expect(first.headers[.rateLimitRemaining] == "1")
            #expect(try await client.request(.get, "/api/v1/events", key: keys[1]).status == .ok)
            let third = try await client.request(.get, "/api/v1/events", key: keys[0])
            #expect(third.status == .tooManyRequests)
            #expect(try third.json()["details"]?["scope"] == "tenant")
        }
    }

    /// Schemathesis found it: a `PATCH` of the platform tenant to a tiny quota locked out every
    /// platform-admin credential. Platform admins are exempt; the tenant's other keys are not.
    @Test(arguments: TestBackend.allCases)
    func platformAdminsAreNeverLimitedByThePlatformTenantsQuota(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let platform = "00000000-0000-0000-0000-000000000000"
            let account = try await client.request(
                .post, "/api/v1/service-accounts", json: #"{"name":"platform-viewer","role":"viewer"}"#)
            let accountID = try #require(try account.json()["id"]?.stringValue)
            let key = try await client.request(.post, "/api/v1/service-accounts/\(accountID)/keys", json: "{}")
            let viewerKey = try #require(try key.json()["key"]?.stringValue)
            let patched = try await client.request(
                .patch, "/api/v1/tenants/\(platform)", json: #"{"quotas":{"requests_per_minute":2}}"#)
            #expect(patched.status == .ok, "\(patched.text)")

            for _ in 0..<6 {
                let response = try await client.request(.get, "/api/v1/tenants/\(platform)")
                #expect(response.status == .ok)
                #expect(response.headers[.rateLimitLimit] == nil)
            }
            // The admin can undo the typo at once.
            let restored = try await client.request(
                .patch, "/api/v1/tenants/\(platform)", json: #"{"quotas":{"requests_per_minute":6000}}"#)
            #expect(restored.status == .ok)
            _ = try await client.request(
                .patch, "/api/v1/tenants/\(platform)", json: #"{"quotas":{"requests_per_minute":2}}"#)

            // A platform-tenant key without the platform_admin role is still limited by the quota.
            var statuses: [Int] = []
            for _ in 0..<3 {
                statuses.append(Int(try await client.request(.get, "/api/v1/events", key: viewerKey).status.code))
            }
            #expect(statuses == [200, 200, 429])
        }
    }
}

extension HTTPField.Name {
    static let rateLimitLimit = Self("RateLimit-Limit")!
    static let rateLimitRemaining = Self("RateLimit-Remaining")!
}
