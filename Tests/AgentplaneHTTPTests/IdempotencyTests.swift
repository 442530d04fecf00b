import AgentplaneCore
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite struct IdempotencyTests {
    @Test(arguments: TestBackend.allCases)
    func theFirstResponseIsReplayedByteForByte(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let body = #"{"type":"order.paid","data":{"order":7}}"#
            let first = try await client.request(
                .post, "/api/v1/events", json: body, headers: [.idempotencyKey: "pay-7"])
            #expect(first.status == .created)
            let again = try await client.request(
                .post, "/api/v1/events", json: body, headers: [.idempotencyKey: "pay-7"])
            #expect(again.status == .created)
            #expect(again.text == first.text)
            #expect(again.headers[.idempotentReplayed] == "true")
            let different = try await client.request(
                .post,
                "/api/v1/events",
                json: #"{"type":"order.paid","data":{"order":8}}"#,
                headers: [.idempotencyKey: "pay-7"]
            )
            #expect(different.status == .unprocessableContent)
            #expect(try different.json()["code"] == "IDEMPOTENCY_KEY_REUSED")
            let log = try await client.request(.get, "/api/v1/events?type=order.paid").json()
            #expect(log["events"]?.arrayValue?.count == 1)
            // A failed request does not hold its key: fixing it and retrying with the same key works.
            let invalid = try await client.request(
                .post, "/api/v1/events", json: #"{"type":"Bad"}"#, headers: [.idempotencyKey: "k2"])
            #expect(invalid.status == .unprocessableContent)
            let fixed = try await client.request(
                .post, "/api/v1/events", json: #"{"type":"order.fixed"}"#, headers: [.idempotencyKey: "k2"])
            #expect(fixed.status == .created, "\(fixed.text)")
            #expect(fixed.headers[.idempotentReplayed] == nil)
            // From now on the key holds the fixed request's answer.
            let replayed = try await client.request(
                .post, "/api/v1/events", json: #"{"type":"order.fixed"}"#, headers: [.idempotencyKey: "k2"])
            #expect(replayed.headers[.idempotentReplayed] == "true")
            #expect(replayed.text == fixed.text)
            let fixedLog = try await client.request(.get, "/api/v1/events?type=order.fixed").json()
            #expect(fixedLog["events"]?.arrayValue?.count == 1)
            let badKey = try await client.request(
                .post, "/api/v1/events", json: body, headers: [.idempotencyKey: "has space"])
            #expect(badKey.status == .badRequest)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func keysAreScopedPerCredentialAndSecretsAreNotStored(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, database in
            let acme = try await TenantFixture.make(client, slug: "acme")
            let body = #"{"type":"same.key"}"#
            #expect(
                try await client.request(.post, "/api/v1/events", json: body, headers: [.idempotencyKey: "k"]).status
                    == .created)
            let other = try await client.request(
                .post,
                "/api/v1/events",
                key: acme.adminKey,
                json: body,
                headers: [.idempotencyKey: "k"]
            )
            #expect(other.status == .created)
            #expect(other.headers[.idempotentReplayed] == nil)
            // A new key's secret is shown once; a replay does not contain it.
            let path = "/api/v1/service-accounts/\(acme.adminAccountID)/keys"
            let created = try await client.request(
                .post, path, key: acme.adminKey, json: "{}", headers: [.idempotencyKey: "nk"])
            let secret = try #require(try created.json()["key"]?.stringValue)
            let replay = try await client.request(
                .post, path, key: acme.adminKey, json: "{}", headers: [.idempotencyKey: "nk"])
            #expect(replay.headers[.idempotentReplayed] == "true")
            #expect(!replay.text.contains(secret))
            #expect(try replay.json()["api_key"]?["id"] == created.json()["api_key"]?["id"])
        }
    }

    /// Many identical requests at once: exactly one takes effect; the others replay it or are told to
    /// retry (409), never a second event.
    @Test(arguments: TestBackend.allCases)
    func concurrentDuplicatesHaveExactlyOneEffect(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let port = try #require(client.port)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<12 {
                    group.addTask {
                        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/events")!)
                        request.httpMethod = "POST"
                        request.httpBody = Data(#"{"type":"race.once"}"#.utf8)
                        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                        request.setValue("Bearer \(testAdminKey)", forHTTPHeaderField: "Authorization")
                        request.setValue("race-1", forHTTPHeaderField: "Idempotency-Key")
                        let (_, response) = try await URLSession.shared.data(for: request)
                        return (response as? HTTPURLResponse)?.statusCode ?? 0
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == 201 || $0 == 409 }, "\(statuses)")
            #expect(statuses.contains(201))
            let log = try await client.request(.get, "/api/v1/events?type=race.once").json()
            #expect(log["events"]?.arrayValue?.count == 1)
        }
    }
}

extension HTTPField.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
    static let idempotentReplayed = Self("Idempotent-Replayed")!
}
