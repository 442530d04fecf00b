import AgentplaneCore
import AgentplaneStore
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// The runs API on a server without a worker (runs stay where the test puts them): the dead-letter
/// list, single and bulk replay, cancel, the 409s of the lifecycle, and bad input answered with
/// the field named and nothing changed.
@Suite struct RunsAPITests {
    /// Seeds a tenant with `dead` dead runs of kind `test.poison`, one dead `test.other` and one
    /// queued run; answers the tenant.
    static func seed(_ store: any Store, dead: Int) async throws -> TenantID {
        let tenant = try await Fixtures.createTenant(in: store).id
        let now = Timestamp.now()
        func new(_ kind: String, maxAttempts: Int = 1) -> NewRun {
            NewRun(kind: kind, tenantID: tenant, runAt: now, maxAttempts: maxAttempts, createdAt: now)
        }
        let poisoned = try await store.runs.enqueue((0..<dead).map { _ in new("test.poison") } + [new("test.other")])
        let claimed = try await store.runs.claim(
            ClaimRequest(workerID: "seed", kinds: nil, limit: dead + 1, leaseMicroseconds: 60_000_000, now: now))
        #expect(claimed.count == poisoned.count)
        _ = try await store.runs.complete(
            worker: "seed",
            Dictionary(
                uniqueKeysWithValues: claimed.map { ($0.id, RunCompletion.failed(error: "boom", retryable: true)) }),
            now: now)
        _ = try await store.runs.enqueue([new("test.waiting", maxAttempts: 3)])
        return tenant
    }

    /// A server on a database seeded by `seed`; `body` gets the headers naming the seeded tenant.
    static func withSeededServer(
        _ backend: TestBackend, dead: Int,
        _ body: @escaping @Sendable (any TestClientProtocol, HTTPFields) async throws -> Void
    ) async throws {
        let seeded = LockedValue<TenantID?>(nil)
        let prepare: (any Store) async throws -> Void = { store in
            let tenant = try await Self.seed(store, dead: dead)
            seeded.withLock { $0 = tenant }
        }
        try await withLiveServer(backend, prepare: prepare) { client, _ in
            let tenant = try #require(seeded.withLock { $0 }).description
            try await body(client, [.tenantID: tenant])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func deadRunsAreListedReplayedOneByOneOrInBulkAndCancelled(backend: TestBackend) async throws {
        try await Self.withSeededServer(backend, dead: 3) { client, headers in
            let dead = try await client.request(.get, "/api/v1/runs?status=dead", headers: headers).json()
            let deadRuns = try #require(dead["runs"]?.arrayValue)
            #expect(deadRuns.count == 4)
            #expect(deadRuns.allSatisfy { $0["last_error"] == "boom" && $0["status"] == "dead" })
            let one = try #require(deadRuns.first { $0["kind"] == "test.other" }?["id"]?.stringValue)
            let detail = try await client.request(.get, "/api/v1/runs/\(one)", headers: headers).json()
            #expect(detail["attempts"]?.arrayValue?.map { $0["outcome"] } == ["failed"])
            #expect(detail["attempts"]?.arrayValue?.first?["error"] == "boom")

            // One replay: back to queued with its whole attempt budget.
            let replayed = try await client.request(.post, "/api/v1/runs/\(one)/replay", headers: headers)
            #expect(replayed.status == .ok, "\(replayed.text)")
            #expect(try replayed.json()["status"] == "queued")
            let again = try await client.request(.post, "/api/v1/runs/\(one)/replay", headers: headers)
            #expect(again.status == .conflict)
            #expect(try again.json()["details"] == .object(["from": "queued", "to": "queued"]))

            // Bulk: at most `limit` of the matching kind.
            let bulk = try await client.request(
                .post, "/api/v1/runs/replay", json: #"{"kind":"test.poison","limit":2}"#, headers: headers)
            #expect(bulk.status == .ok, "\(bulk.text)")
            #expect(try bulk.json()["replayed"]?.arrayValue?.count == 2)
            let left = try await client.request(.get, "/api/v1/runs?status=dead", headers: headers).json()
            #expect(left["runs"]?.arrayValue?.map { $0["kind"] } == ["test.poison"])

            // Cancel: a queued run ends at once; an ended one is a 409 naming both states.
            let cancelled = try await client.request(.post, "/api/v1/runs/\(one)/cancel", headers: headers)
            #expect(try cancelled.json()["status"] == "cancelled")
            let twice = try await client.request(.post, "/api/v1/runs/\(one)/cancel", headers: headers)
            #expect(twice.status == .conflict)
            #expect(try twice.json()["details"] == .object(["from": "cancelled", "to": "cancelled"]))

            // Pages, newest first, by cursor.
            let first = try await client.request(.get, "/api/v1/runs?limit=3", headers: headers).json()
            let cursor = try #require(first["next_cursor"]?.stringValue)
            let second = try await client.request(.get, "/api/v1/runs?limit=3&cursor=\(cursor)", headers: headers)
                .json()
            let ids = (first["runs"]?.arrayValue ?? []) + (second["runs"]?.arrayValue ?? [])
            #expect(ids.count == 5)
            #expect(Set(ids.compactMap { $0["id"]?.stringValue }).count == 5)
            #expect(second["next_cursor"] == nil)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func badRunRequestsNameTheFieldAndChangeNothing(backend: TestBackend) async throws {
        try await Self.withSeededServer(backend, dead: 1) { client, headers in
            for (query, field) in [
                ("status=sleeping", "status"), ("kind=Not%20A%20Kind", "kind"), ("instance_id=nope", "instance_id"),
                ("cursor=zzz", "cursor"), ("created_after=yesterday", "created_after"), ("limit=0", "limit"),
            ] {
                let response = try await client.request(.get, "/api/v1/runs?\(query)", headers: headers)
                #expect(response.status == .badRequest, "\(query): \(response.status)")
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(response.text.contains(field), "\(query): \(response.text)")
            }
            for (body, field) in [
                (#"{"status":"running"}"#, "status"), (#"{"limit":0}"#, "limit"), (#"{"limit":5000}"#, "limit"),
                (#"{"kind":"BAD KIND"}"#, "kind"), (#"{"instance_id":"nope"}"#, "instance_id"),
            ] {
                let response = try await client.request(.post, "/api/v1/runs/replay", json: body, headers: headers)
                #expect(
                    response.status == .badRequest || response.status == .unprocessableContent,
                    "\(body): \(response.status)")
                #expect(response.text.contains(field), "\(body): \(response.text)")
            }
            // A replay of a queued run is a 409, and an unknown run a 404; nothing changed.
            let runs = try await client.request(.get, "/api/v1/runs?status=queued", headers: headers).json()
            let queued = try #require(runs["runs"]?.arrayValue?.first?["id"]?.stringValue)
            let replay = try await client.request(.post, "/api/v1/runs/\(queued)/replay", headers: headers)
            #expect(replay.status == .conflict)
            #expect(try replay.json()["code"] == "ILLEGAL_TRANSITION")
            let unknown = try await client.request(
                .post, "/api/v1/runs/\(UUIDv7.make().lowercasedString)/cancel", headers: headers)
            #expect(unknown.status == .notFound)
            let dead = try await client.request(.get, "/api/v1/runs?status=dead", headers: headers).json()
            #expect(dead["runs"]?.arrayValue?.count == 2)
        }
    }
}
