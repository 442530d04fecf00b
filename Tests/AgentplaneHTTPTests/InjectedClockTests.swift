import AgentplaneCore
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Time reaches use cases, authentication, rate limits and events from one injected clock.
@Suite struct InjectedClockTests {
    @Test(arguments: TestBackend.allCases)
    func keysExpireAndBucketsRefillOnTheInjectedClock(backend: TestBackend) async throws {
        let clock = ManualClock()
        try await withLiveServer(backend, clock: clock) { client, _ in
            let acme = try await TenantFixture.make(client, slug: "acme")
            let created = try await client.request(
                .post, "/api/v1/service-accounts/\(acme.adminAccountID)/keys", key: acme.adminKey,
                json: #"{"expires_in_seconds":60}"#)
            #expect(created.status == .created, "\(created.text)")
            let shortLived = try #require(try created.json()["key"]?.stringValue)
            #expect(try created.json()["api_key"]?["expires_at"]?.stringValue != nil)
            #expect(try await client.request(.get, "/api/v1/events", key: shortLived).status == .ok)
            clock.advance(seconds: 61)
            // Expired, although this node verified it a moment ago (the cache checks expiry too).
            #expect(try await client.request(.get, "/api/v1/events", key: shortLived).status == .unauthorized)

            // Events carry the injected time.
            let published = try await client.request(
                .post, "/api/v1/events", key: acme.adminKey, json: #"{"type":"clock.checked"}"#)
            let time = try #require(try published.json()["time"]?.stringValue)
            #expect(Timestamp(rfc3339: time) == Timestamp(microsecondsSinceEpoch: clock.now().microsecondsSinceEpoch))

            // The tenant's bucket: 2 per minute, refilled when the clock moves on.
            let patched = try await client.request(
                .patch, "/api/v1/tenants/\(acme.id)", json: #"{"quotas":{"requests_per_minute":2}}"#)
            #expect(patched.status == .ok, "\(patched.text)")
            clock.advance(seconds: 60)
            #expect(try await client.request(.get, "/api/v1/events", key: acme.adminKey).status == .ok)
            #expect(try await client.request(.get, "/api/v1/events", key: acme.adminKey).status == .ok)
            let limited = try await client.request(.get, "/api/v1/events", key: acme.adminKey)
            #expect(limited.status == .tooManyRequests)
            clock.advance(seconds: 60)
            #expect(try await client.request(.get, "/api/v1/events", key: acme.adminKey).status == .ok)
        }
    }
}

/// Another node's revocation reaches this node's key cache within its documented bound.
@Suite struct KeyCacheBoundTests {
    @Test func aKeyRevokedElsewhereStopsWorkingWithinTheCacheTTL() async throws {
        let clock = ManualClock()
        try await withLiveServer(.postgres, clock: clock) { client, database in
            let acme = try await TenantFixture.make(client, slug: "acme")
            #expect(try await client.request(.get, "/api/v1/events", key: acme.adminKey).status == .ok)
            // Another node revokes the key: only the database knows.
            try await PostgresAdmin.withConnection(url: try #require(database.postgresURL)) { connection in
                try await connection.query(
                    "SELECT set_config('app.tenant_id', \(acme.id), false)", logger: testLogger())
                try await connection.query(
                    "UPDATE api_keys SET revoked_at = now() WHERE id = \(acme.adminKeyID)::uuid",
                    logger: testLogger())
            }
            // This node verified it a moment ago and trusts that for at most the TTL...
            #expect(try await client.request(.get, "/api/v1/events", key: acme.adminKey).status == .ok)
            clock.advance(seconds: 5)
            // ...then reads the database again.
            #expect(try await client.request(.get, "/api/v1/events", key: acme.adminKey).status == .unauthorized)
        }
    }
}
