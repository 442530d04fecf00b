import AgentplaneApp
import AgentplaneCore
import Foundation
import Testing

/// The pure side of webhooks: Standard Webhooks signatures, validation naming fields, the rotation's grace
/// period, which events are deliverable, auto-disable, and the retry schedule the docs state.
@Suite struct WebhookDecisionsTests {
    @Test func signaturesMatchTheStandardWebhooksReferenceVector() throws {
        let body = Array(#"{"test": 2432232314}"#.utf8)
        let signature = WebhookSignature.sign(
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
            timestamp: 1_614_265_330, body: body)
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        let both = WebhookSignature.header(
            secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", WebhookSignature.generateSecret()],
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: body)
        let first = try #require(signature)
        #expect(both.split(separator: " ").count == 2 && both.hasPrefix(first))
        let secret = WebhookSignature.generateSecret()
        #expect(WebhookSignature.keyBytes(secret)?.count == 32)
        #expect(WebhookSignature.sign(secret: "not-a-secret", id: "x", timestamp: 1, body: []) == nil)
    }

    @Test(arguments: [
        (WebhookFields(url: "ftp://example.com"), "/url"),
        (WebhookFields(url: "https://u:p@example.com/x"), "/url"),
        (WebhookFields(url: "https://example.com/" + String(repeating: "a", count: 2100)), "/url"),
        (WebhookFields(url: "https://example.com/x", eventTypes: []), "/event_types"),
        (WebhookFields(url: "https://example.com/x", eventTypes: ["ok.*", "no spaces"]), "/event_types/1"),
        (WebhookFields(url: "https://example.com/x", format: "xml"), "/format"),
        (WebhookFields(url: "https://example.com/x", description: String(repeating: "d", count: 501)), "/description"),
    ])
    func badFieldsAreNamed(fields: WebhookFields, pointer: String) {
        #expect(throws: AgentplaneError.self) { try WebhookDecisions.checked(fields) }
        do {
            _ = try WebhookDecisions.checked(fields)
        } catch {
            #expect(error.fieldErrors.map(\.pointer).contains(pointer))
        }
    }

    static func webhook(enabled: Bool = true, failures: Int = 0) throws -> Webhook {
        let (webhook, _) = try WebhookDecisions.create(
            WebhookFields(url: "https://example.com/x", eventTypes: ["order.*"], enabled: enabled), id: UUIDv7.make(),
            tenant: TenantID(UUID()), sealedSecret: "s1", context: EventContext(),
            now: Timestamp(microsecondsSinceEpoch: 0))
        var failing = webhook
        failing.consecutiveFailures = failures
        return failing
    }

    @Test func theReplacedSecretSignsOnlyDuringItsGracePeriod() throws {
        let current = try Self.webhook()
        let now = Timestamp(microsecondsSinceEpoch: 1_000_000)
        let rotated = WebhookDecisions.rotate(
            current, newSealedSecret: "s2", graceSeconds: 60, context: EventContext(), now: now)
        #expect(rotated.state.version == 2 && rotated.events.map(\.type) == ["webhook.secret_rotated"])
        #expect(rotated.state.signingSecrets(at: now) == ["s2", "s1"])
        #expect(rotated.state.signingSecrets(at: now.adding(seconds: 59)) == ["s2", "s1"])
        #expect(rotated.state.signingSecrets(at: now.adding(seconds: 60)) == ["s2"])
        #expect(rotated.events[0].data["secret"] == nil && !"\(rotated.events[0].data)".contains("s2"))
    }

    @Test func aWebhookIsDisabledAtTheThresholdAndReEnablingClearsIt() throws {
        #expect(
            WebhookDecisions.disableIfFailing(
                try Self.webhook(failures: 2), threshold: 3, context: .init(), now: .now())
                == nil)
        let change = try #require(
            WebhookDecisions.disableIfFailing(
                try Self.webhook(failures: 3), threshold: 3, context: .init(), now: .now()))
        #expect(!change.state.enabled && change.state.disabledReason?.contains("3 dead deliveries") == true)
        #expect(change.events.map(\.type) == ["webhook.disabled"])
        #expect(
            WebhookDecisions.disableIfFailing(change.state, threshold: 3, context: .init(), now: .now()) == nil)
        let enabled = try WebhookDecisions.update(
            change.state, WebhookFields(url: "https://example.com/x", enabled: true), context: .init(), now: .now())
        #expect(enabled.state.enabled && enabled.state.consecutiveFailures == 0 && enabled.state.disabledReason == nil)
        #expect(enabled.state.filter.types == ["*"])
    }

    @Test func deliveryRunsOfWebhooksAreNeverDeliveredThemselves() throws {
        let hook = try Self.webhook()
        var all = hook
        all.filter = .all
        let tenant = hook.tenantID
        func event(_ type: String, _ data: JSONValue) -> Event {
            Event(
                tenantID: tenant, position: .start, id: UUIDv7.make().lowercasedString, source: "/t", type: type,
                subject: nil, time: .now(), data: data)
        }
        let events = [
            event("run.failed", ["kind": "webhook.deliver"]), event("run.failed", ["kind": "task.run"]),
            event("order.placed", [:]), event("webhook.disabled", [:]),
        ]
        let made = WebhookDecisions.deliveries(for: events, to: [all, hook], policy: WebhookPolicy(), now: .now())
        #expect(made.map(\.0.eventType) == ["run.failed", "order.placed", "order.placed", "webhook.disabled"])
        #expect(made.allSatisfy { $0.0.runID == $0.1.id && $0.1.kind == WebhookDecisions.deliverRun })
        var disabled = all
        disabled.enabled = false
        #expect(WebhookDecisions.deliveries(for: events, to: [disabled], policy: WebhookPolicy(), now: .now()).isEmpty)
    }

    @Test func theDefaultRetryScheduleSpansAboutADay() {
        let policy = WebhookPolicy()
        let span = policy.scheduleSpanSeconds
        #expect(policy.maxAttempts == 13)
        #expect(span.shortest > 15 * 3600 && span.shortest < 17 * 3600)
        #expect(span.longest > 32 * 3600 && span.longest < 33 * 3600)
    }
}
