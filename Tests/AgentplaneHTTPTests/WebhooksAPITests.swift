import AgentplaneCore
import AgentplaneServer
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Webhook subscriptions through the API of a server that runs its worker and dispatcher, delivering to a real
/// receiver process (`Tests/Fixtures/webhooks/receiver.py`) that verifies every Standard Webhooks signature.
@Suite(.timeLimit(.minutes(4))) struct WebhooksAPITests {
    /// A server with its worker and dispatcher, allowed to reach the receiver on loopback, with a delivery policy
    /// short enough for tests (3 attempts 50–100 ms apart, disabled after 3 dead deliveries in a row).
    static var engine: EngineSettings {
        var settings = EngineSettings()
        settings.allowedOutboundHosts = ["127.0.0.1"]
        settings.webhooks = WebhookPolicy(
            maxAttempts: 3, backoff: Backoff(strategy: .exponentialJitter, baseSeconds: 0.05, capSeconds: 0.1),
            timeout: .seconds(5), disableAfter: 3, rotationGraceSeconds: 3600, pollInterval: .milliseconds(50))
        return settings
    }

    /// Creates a webhook; answers its id and signing secret.
    static func create(
        _ client: any TestClientProtocol, key: String = testAdminKey, url: String, types: String = #"["*"]"#,
        extra: String = ""
    ) async throws -> (id: String, secret: String) {
        let response = try await client.request(
            .post, "/api/v1/webhooks", key: key, json: #"{"url":"\#(url)","event_types":\#(types)\#(extra)}"#)
        #expect(response.status == .created, "\(response.text)")
        let body = try response.json()
        let secret = try #require(body["signing_secret"]?.stringValue)
        #expect(secret.hasPrefix("whsec_"))
        return (try #require(body["webhook"]?["id"]?.stringValue), secret)
    }

    /// Publishes an event; answers its id.
    static func publish(_ client: any TestClientProtocol, key: String = testAdminKey, _ type: String) async throws
        -> String
    {
        let response = try await client.request(
            .post, "/api/v1/events", key: key, json: #"{"type":"\#(type)","data":{"note":"\#(type)"}}"#)
        #expect(response.status == .created, "\(response.text)")
        return try #require(try response.json()["id"]?.stringValue)
    }

    @Test(arguments: TestBackend.allCases)
    func matchingEventsAreDeliveredSignedAndLogged(backend: TestBackend) async throws {
        try await WebhookReceiver.with { receiver in
            try await withLiveServer(backend, engine: Self.engine) { client, database in
                let orders = try await Self.create(client, url: receiver.url("/ok/orders"), types: #"["order.*"]"#)
                let users = try await Self.create(
                    client, url: receiver.url("/ok/users"), types: #"["member.signed_up"]"#)
                try receiver.trust([orders.secret, users.secret])
                let placed = try await Self.publish(client, "order.placed")
                _ = try await Self.publish(client, "invoice.sent")
                let signedUp = try await Self.publish(client, "member.signed_up")
                let gotOrders = try await receiver.awaitReceived(path: "/ok/orders") { $0.count >= 1 }
                let gotUsers = try await receiver.awaitReceived(path: "/ok/users") { $0.count >= 1 }
                let order = try #require(gotOrders.first)
                #expect(order["verified"] == .bool(true) && order["matched_secrets"] == .array([.int(0)]))
                #expect(order["webhook_id"]?.stringValue == placed)
                #expect(order["user_agent"] == "Agentplane-Webhooks/1" && order["content_type"] == "application/json")
                #expect(order["body"]?["type"] == "order.placed" && order["body"]?["specversion"] == "1.0")
                #expect(order["body"]?["data"]?["note"] == "order.placed")
                #expect(gotUsers.first?["webhook_id"]?.stringValue == signedUp)
                #expect(gotUsers.first?["matched_secrets"] == .array([.int(1)]))
                // The log: each delivery succeeded at its first attempt, with status code and latency.
                let log = try await client.awaitJSON("/api/v1/webhooks/\(orders.id)/deliveries") {
                    $0["deliveries"]?.arrayValue?.first?["status"] == "succeeded"
                }
                let deliveries = try #require(log["deliveries"]?.arrayValue)
                #expect(deliveries.count == 1 && deliveries[0]["event_type"] == "order.placed")
                let attempt = try #require(deliveries[0]["attempt_log"]?.arrayValue?.first)
                #expect(attempt["status_code"] == .int(200) && attempt["latency_ms"]?.numberValue != nil)
                #expect(attempt["response_snippet"]?.stringValue?.contains(placed) == true)
                let one = try await client.request(
                    .get, "/api/v1/webhooks/\(orders.id)/deliveries/\(try #require(deliveries[0]["id"]?.stringValue))"
                ).json()
                #expect(one["attempts"] == .int(1) && one["is_test"] == .bool(false))
                // Nothing else matched the patterns (no invoice, nor the webhooks' own events).
                #expect(receiver.received().count == 2)
                // The secret is never returned again, nor stored plain.
                for path in ["/api/v1/webhooks/\(orders.id)", "/api/v1/webhooks"] {
                    let text = try await client.request(.get, path).text
                    #expect(!text.contains(orders.secret) && !text.contains("signing_secret"), "\(path)")
                }
                let stored = try await database.rawText(table: "webhooks")
                #expect(!stored.contains(orders.secret) && !stored.contains(users.secret))
                #expect(!stored.contains(String(orders.secret.dropFirst("whsec_".count))))
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func theTestEndpointSendsASignedSyntheticEventInTheWebhooksFormat(backend: TestBackend) async throws {
        try await WebhookReceiver.with { receiver in
            try await withLiveServer(backend, engine: Self.engine) { client, _ in
                let hook = try await Self.create(
                    client, url: receiver.url("/ok/seed"), types: #"["order.*"]"#, extra: #","format":"seed000""#)
                try receiver.trust([hook.secret])
                let tested = try await client.request(.post, "/api/v1/webhooks/\(hook.id)/test")
                #expect(tested.status == .ok, "\(tested.text)")
                let delivery = try tested.json()
                #expect(delivery["status"] == "succeeded" && delivery["is_test"] == .bool(true))
                #expect(delivery["event_type"] == "webhook.test")
                #expect(delivery["attempt_log"]?.arrayValue?.first?["status_code"] == .int(200))
                let test = try #require(receiver.received(path: "/ok/seed").first)
                #expect(test["verified"] == .bool(true) && test["body"]?["event"] == "webhook_test")
                // Seed 000's message shape for real events too.
                let placed = try await Self.publish(client, "order.placed")
                let got = try await receiver.awaitReceived(path: "/ok/seed") { $0.count >= 2 }
                let body = try #require(got.last?["body"])
                #expect(body["event"] == "order_placed" && body["id"]?.stringValue == placed)
                #expect(body["data"]?["note"] == "order.placed" && body["timestamp"]?.stringValue != nil)
                #expect(body["specversion"] == nil)
                // A failing receiver: the test answers the failed attempt (logged, not counted against it).
                let failing = try await Self.create(client, url: receiver.url("/status/418/t"), types: #"["x.y"]"#)
                try receiver.trust([hook.secret, failing.secret])
                let refused = try await client.request(.post, "/api/v1/webhooks/\(failing.id)/test").json()
                #expect(refused["status"] == "dead" && refused["last_status_code"] == .int(418))
                let webhook = try await client.request(.get, "/api/v1/webhooks/\(failing.id)").json()
                #expect(webhook["consecutive_failures"] == .int(0) && webhook["enabled"] == .bool(true))
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func badFieldsAndUnreachableURLsAreRefusedNamingTheField(backend: TestBackend) async throws {
        try await withLiveServer(backend, engine: Self.engine) { client, _ in
            for (body, pointer) in [
                (#"{"url":"ftp://example.com/x"}"#, "/url"),
                (#"{"url":"https://user:pw@example.com/x"}"#, "/url"),
                (#"{"url":"http://169.254.169.254/latest/meta-data"}"#, "/url"),
                (#"{"url":"http://10.1.2.3/hook"}"#, "/url"),
                (#"{"url":"http://127.0.0.1:1/hook","format":"xml"}"#, "/format"),
                (#"{"url":"http://127.0.0.1:1/hook","event_types":["bad pattern!"]}"#, "/event_types/0"),
                (#"{"url":"http://127.0.0.1:1/hook","event_types":[]}"#, "/event_types"),
            ] {
                let response = try await client.request(.post, "/api/v1/webhooks", json: body)
                #expect(response.status == .unprocessableContent, "\(body): \(response.text)")
                let pointers = try response.json()["errors"]?.arrayValue?.compactMap { $0["pointer"]?.stringValue }
                #expect(pointers?.contains(pointer) == true, "\(body): \(response.text)")
            }
            #expect(try await client.request(.get, "/api/v1/webhooks").json()["webhooks"] == .array([]))
            // PUT checks the same, and If-Match guards it.
            let hook = try await Self.create(client, url: "http://127.0.0.1:1/hook")
            let moved = try await client.request(
                .put, "/api/v1/webhooks/\(hook.id)", json: #"{"url":"http://192.168.1.10/hook"}"#)
            #expect(moved.status == .unprocessableContent)
            let stale = try await client.request(
                .put, "/api/v1/webhooks/\(hook.id)", json: #"{"url":"http://127.0.0.1:2/hook","enabled":false}"#,
                headers: [.ifMatch: "\"7\""])
            #expect(stale.status == .preconditionFailed)
            let updated = try await client.request(
                .put, "/api/v1/webhooks/\(hook.id)", json: #"{"url":"http://127.0.0.1:2/hook","enabled":false}"#,
                headers: [.ifMatch: "\"1\""])
            #expect(updated.status == .ok && updated.headers[.eTag] == "\"2\"")
            #expect(try updated.json()["enabled"] == .bool(false) && updated.json()["event_types"] == .array(["*"]))
            let bad = try await client.request(.get, "/api/v1/webhooks/\(hook.id)/deliveries?status=lost")
            #expect(bad.status == .badRequest)
            #expect(try await client.request(.delete, "/api/v1/webhooks/\(hook.id)").status == .noContent)
            // An idempotent retry of a create answers the stored response without the secret.
            let body = #"{"url":"http://127.0.0.1:3/hook"}"#
            let first = try await client.request(
                .post, "/api/v1/webhooks", json: body, headers: [.idempotencyKey: "create-hook-1"])
            let again = try await client.request(
                .post, "/api/v1/webhooks", json: body, headers: [.idempotencyKey: "create-hook-1"])
            let secret = try #require(try first.json()["signing_secret"]?.stringValue)
            #expect(again.status == .created && again.headers[.idempotentReplayed] == "true")
            #expect(try again.json()["webhook"]?["id"] == first.json()["webhook"]?["id"])
            #expect(!again.text.contains(secret) && !again.text.contains("whsec_"))
            #expect(try await client.request(.get, "/api/v1/webhooks/\(hook.id)").status == .notFound)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func loopbackIsRefusedWithoutTheOperatorsAllowList(backend: TestBackend) async throws {
        var engine = Self.engine
        engine.allowedOutboundHosts = []
        try await withLiveServer(backend, engine: engine) { client, _ in
            let response = try await client.request(
                .post, "/api/v1/webhooks", json: #"{"url":"http://127.0.0.1:8080/hook"}"#)
            #expect(response.status == .unprocessableContent)
            #expect(try response.json()["errors"]?.arrayValue?.first?["pointer"] == "/url")
            #expect(response.text.contains("not a public address"))
        }
    }
}
