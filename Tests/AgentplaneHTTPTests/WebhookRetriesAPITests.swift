import AgentplaneCore
import AgentplaneServer
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// What happens when receivers fail: retries with backoff, dead deliveries listed and replayed one by one or in
/// bulk, the webhook disabled after dead deliveries in a row; secret rotation; and tenants' isolation — against a
/// real receiver process that verifies every signature.
@Suite(.timeLimit(.minutes(4))) struct WebhookRetriesAPITests {
    static var engine: EngineSettings { WebhooksAPITests.engine }

    static func deliveries(_ client: any TestClientProtocol, _ id: String, status: String? = nil) async throws
        -> [JSONValue]
    {
        let query = status.map { "?status=\($0)" } ?? ""
        return try await client.request(.get, "/api/v1/webhooks/\(id)/deliveries\(query)").json()["deliveries"]?
            .arrayValue ?? []
    }

    @Test(arguments: TestBackend.allCases)
    func failedAttemptsAreRetriedWithTheSameWebhookID(backend: TestBackend) async throws {
        try await WebhookReceiver.with { receiver in
            try await withLiveServer(backend, engine: Self.engine) { client, _ in
                let hook = try await WebhooksAPITests.create(
                    client, url: receiver.url("/flaky/2/orders"), types: #"["order.*"]"#)
                try receiver.trust([hook.secret])
                let placed = try await WebhooksAPITests.publish(client, "order.placed")
                let got = try await receiver.awaitReceived(path: "/flaky/2/orders") { $0.count >= 3 }
                #expect(got.map { $0["status"] } == [.int(500), .int(500), .int(200)])
                #expect(got.allSatisfy { $0["webhook_id"]?.stringValue == placed && $0["verified"] == .bool(true) })
                let log = try await client.awaitJSON("/api/v1/webhooks/\(hook.id)/deliveries") {
                    $0["deliveries"]?.arrayValue?.first?["status"] == "succeeded"
                }
                let delivery = try #require(log["deliveries"]?.arrayValue?.first)
                #expect(delivery["attempts"] == .int(3))
                #expect(
                    delivery["attempt_log"]?.arrayValue?.map { $0["status_code"] } == [.int(500), .int(500), .int(200)])
                #expect(
                    try await client.request(.get, "/api/v1/webhooks/\(hook.id)").json()["consecutive_failures"]
                        == .int(0))
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func deadDeliveriesAreReplayedAndAFailingWebhookIsDisabled(backend: TestBackend) async throws {
        try await WebhookReceiver.with { receiver in
            try await withLiveServer(backend, engine: Self.engine) { client, _ in
                let hook = try await WebhooksAPITests.create(client, url: receiver.url("/fail/w"), types: #"["job.*"]"#)
                let ok = try await WebhooksAPITests.create(client, url: receiver.url("/ok/other"), types: #"["job.*"]"#)
                try receiver.trust([hook.secret, ok.secret])
                let first = try await WebhooksAPITests.publish(client, "job.one")
                let second = try await WebhooksAPITests.publish(client, "job.two")
                // Both exhaust their 3 attempts: dead, listed as the webhook's dead letters.
                _ = try await client.awaitJSON("/api/v1/webhooks/\(hook.id)/deliveries?status=dead") {
                    $0["deliveries"]?.arrayValue?.count == 2
                }
                #expect(receiver.received(path: "/fail/w").count == 6)
                #expect(
                    try await client.request(.get, "/api/v1/webhooks/\(hook.id)").json()["consecutive_failures"]
                        == .int(2))
                // Replay one: same body and webhook-id, fails again: the third dead delivery in a row disables it.
                let dead = try await Self.deliveries(client, hook.id, status: "dead")
                let one = try #require(dead.first { $0["event_id"]?.stringValue == first })
                let oneID = try #require(one["id"]?.stringValue)
                let replayed = try await client.request(
                    .post, "/api/v1/webhooks/\(hook.id)/deliveries/\(oneID)/replay")
                #expect(replayed.status == .accepted, "\(replayed.text)")
                #expect(try replayed.json()["status"] == "pending")
                let disabled = try await client.awaitJSON("/api/v1/webhooks/\(hook.id)") {
                    $0["enabled"] == .bool(false)
                }
                #expect(disabled["disabled_reason"]?.stringValue?.contains("3 dead deliveries") == true)
                let events = try await client.request(.get, "/api/v1/events?type=webhook.disabled").json()
                #expect(events["events"]?.arrayValue?.first?["subject"]?.stringValue == "webhooks/\(hook.id)")
                #expect(receiver.received(path: "/fail/w").filter { $0["webhook_id"]?.stringValue == first }.count == 6)
                // A delivery that succeeded is not replayable: 409.
                let delivered = try await client.awaitJSON("/api/v1/webhooks/\(ok.id)/deliveries?status=succeeded") {
                    $0["deliveries"]?.arrayValue?.count == 2
                }
                let done = try #require(delivered["deliveries"]?.arrayValue?.first?["id"]?.stringValue)
                let illegal = try await client.request(.post, "/api/v1/webhooks/\(ok.id)/deliveries/\(done)/replay")
                #expect(illegal.status == .conflict)
                // The receiver is fixed and the webhook enabled again: a bulk replay delivers both dead ones.
                let fixed = try await client.request(
                    .put, "/api/v1/webhooks/\(hook.id)",
                    json: #"{"url":"\#(receiver.url("/ok/w"))","event_types":["job.*"],"enabled":true}"#)
                #expect(fixed.status == .ok)
                #expect(try fixed.json()["consecutive_failures"] == .int(0))
                let bulk = try await client.request(.post, "/api/v1/webhooks/\(hook.id)/deliveries/replay?limit=10")
                #expect(bulk.status == .ok, "\(bulk.text)")
                #expect(try bulk.json()["replayed"]?.arrayValue?.count == 2)
                let got = try await receiver.awaitReceived(path: "/ok/w") { $0.count >= 2 }
                #expect(Set(got.compactMap { $0["webhook_id"]?.stringValue }) == [first, second])
                #expect(got.allSatisfy { $0["verified"] == .bool(true) })
                _ = try await client.awaitJSON("/api/v1/webhooks/\(hook.id)/deliveries?status=succeeded") {
                    $0["deliveries"]?.arrayValue?.count == 2
                }
                #expect(try await Self.deliveries(client, hook.id, status: "dead").isEmpty)
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aRotatedSecretSignsNextToTheNewOneDuringItsGracePeriod(backend: TestBackend) async throws {
        try await WebhookReceiver.with { receiver in
            try await withLiveServer(backend, engine: Self.engine) { client, _ in
                let hook = try await WebhooksAPITests.create(client, url: receiver.url("/ok/r"), types: #"["r.*"]"#)
                let rotated = try await client.request(.post, "/api/v1/webhooks/\(hook.id)/rotate-secret")
                #expect(rotated.status == .ok, "\(rotated.text)")
                let newSecret = try #require(try rotated.json()["signing_secret"]?.stringValue)
                #expect(newSecret != hook.secret && newSecret.hasPrefix("whsec_"))
                #expect(try rotated.json()["webhook"]?["previous_secret_expires_at"]?.stringValue != nil)
                try receiver.trust([hook.secret, newSecret])
                let id = try await WebhooksAPITests.publish(client, "r.one")
                let got = try await receiver.awaitReceived(path: "/ok/r") { $0.count >= 1 }
                #expect(got[0]["webhook_id"]?.stringValue == id)
                // Two signatures, new then old: a receiver holding either secret verifies the delivery.
                #expect(got[0]["matched_secrets"] == .array([.int(0), .int(1)]))
                #expect(got[0]["webhook_signature"]?.stringValue?.split(separator: " ").count == 2)
                #expect(!(try await client.request(.get, "/api/v1/webhooks/\(hook.id)").text.contains(newSecret)))
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aSubscriberNeverReceivesAnotherTenantsEvents(backend: TestBackend) async throws {
        try await WebhookReceiver.with { receiver in
            try await withLiveServer(backend, engine: Self.engine) { client, _ in
                let a = try await TenantFixture.make(client, slug: "hooks-a")
                let b = try await TenantFixture.make(client, slug: "hooks-b")
                let hookA = try await WebhooksAPITests.create(client, key: a.adminKey, url: receiver.url("/ok/a"))
                let hookB = try await WebhooksAPITests.create(client, key: b.adminKey, url: receiver.url("/ok/b"))
                try receiver.trust([hookA.secret, hookB.secret])
                let secretEvent = try await WebhooksAPITests.publish(client, key: a.adminKey, "payroll.secret_a")
                _ = try await receiver.awaitReceived(path: "/ok/a") { got in
                    got.contains { $0["webhook_id"]?.stringValue == secretEvent }
                }
                // B's own event reaches B (so B's dispatch has run past the time of A's event).
                let bEvent = try await WebhooksAPITests.publish(client, key: b.adminKey, "b.thing")
                let gotB = try await receiver.awaitReceived(path: "/ok/b") { got in
                    got.contains { $0["webhook_id"]?.stringValue == bEvent }
                }
                for record in gotB {
                    let text = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
                    #expect(!text.contains(a.id) && !text.contains("payroll") && !text.contains(hookA.id))
                    #expect(record["matched_secrets"] == .array([.int(1)]))
                }
                // A's webhook, its deliveries and their replay are 404s to B.
                for (method, path) in [
                    (HTTPRequest.Method.get, "/api/v1/webhooks/\(hookA.id)"),
                    (.get, "/api/v1/webhooks/\(hookA.id)/deliveries"),
                    (.post, "/api/v1/webhooks/\(hookA.id)/test"),
                    (.post, "/api/v1/webhooks/\(hookA.id)/deliveries/replay"),
                    (.post, "/api/v1/webhooks/\(hookA.id)/rotate-secret"),
                    (.delete, "/api/v1/webhooks/\(hookA.id)"),
                ] {
                    #expect(try await client.request(method, path, key: b.adminKey).status == .notFound, "\(path)")
                }
                #expect(try await client.request(.get, "/api/v1/webhooks/\(hookA.id)", key: a.adminKey).status == .ok)
            }
        }
    }
}
