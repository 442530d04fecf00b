import AgentplaneCore
import AgentplaneStore
import Foundation

/// What one delivery run did.
public enum WebhookDeliveryResult: Sendable, Hashable {
    /// The receiver took it (2xx).
    case delivered(statusCode: Int)
    /// Nothing to send: the delivery is gone, no longer pending, or its webhook is disabled.
    case skipped(String)
}

/// Why an attempt failed: the run is retried with its backoff (`permanent`: sent to `dead` at once).
public struct WebhookAttemptFailure: Error, CustomStringConvertible, Sendable {
    /// What happened (the status, or the transport error).
    public var description: String
    /// Whether no retry can help (the SSRF policy refused the URL).
    public var permanent: Bool
}

extension UseCases {
    /// One attempt of a delivery run: loads the delivery and its webhook, sends the signed body once, and logs
    /// the attempt. A delivery no longer pending, or whose webhook is disabled, ends without a request.
    /// Throws `WebhookAttemptFailure` when the receiver did not take it.
    public func deliverWebhook(_ id: UUID, tenant: TenantID) async throws -> WebhookDeliveryResult {
        guard let delivery = try await store.webhooks.delivery(tenant: tenant, id: id) else {
            return .skipped("the delivery is gone (its webhook was deleted)")
        }
        guard delivery.status == .pending else { return .skipped("the delivery is \(delivery.status.rawValue)") }
        guard let webhook = try await store.webhooks.find(tenant: tenant, id: delivery.webhookID), webhook.enabled
        else {
            let reason = "the webhook is disabled"
            _ = try await store.webhooks.endDelivery(
                tenant: tenant, id: id, status: .skipped, error: reason, now: clock.now())
            return .skipped(reason)
        }
        let (attempt, response) = try await send(delivery, to: webhook)
        if attempt.succeeded {
            _ = try await store.webhooks.recordAttempt(attempt, outcome: .delivered, now: clock.now())
            return .delivered(statusCode: attempt.statusCode ?? 200)
        }
        _ = try await store.webhooks.recordAttempt(attempt, outcome: .retrying, now: clock.now())
        throw WebhookAttemptFailure(description: Self.failure(response), permanent: response.refused)
    }

    /// After a delivery's run ended `dead`: the delivery is dead, its webhook's count of failures rises, and at
    /// the policy's threshold the webhook is disabled (`webhook.disabled`). Answers whether it was disabled.
    @discardableResult
    public func abandonWebhookDelivery(_ id: UUID, tenant: TenantID, error: String, by caller: Caller) async throws
        -> Bool
    {
        let now = clock.now()
        guard
            var webhook = try await store.webhooks.endDelivery(
                tenant: tenant, id: id, status: .dead, error: error, now: now)
        else { return false }
        for _ in 0..<3 {
            guard
                let change = WebhookDecisions.disableIfFailing(
                    webhook, threshold: webhookSettings.policy.disableAfter, context: caller.eventContext,
                    now: clock.now())
            else { return false }
            do {
                try await store.webhooks.update(
                    change.state, expectedVersion: change.expectedVersion,
                    record: caller.record(Self.resource(webhook), status: 200, events: change.events, at: now))
                return true
            } catch let error as StoreError where error.kind == .staleVersion {
                guard let again = try await store.webhooks.find(tenant: tenant, id: webhook.id) else { return false }
                webhook = again
            }
        }
        return false
    }

    /// `POST /webhooks/{id}/test`: a synthetic `webhook.test` event sent now, once, in the webhook's format; the
    /// attempt is logged as a test delivery (never counted against the webhook). Answers the delivery and its
    /// attempt.
    public func testWebhook(_ id: UUID, tenant named: TenantID?, by caller: Caller) async throws
        -> (WebhookDelivery, [WebhookAttempt])
    {
        let webhook = try await webhook(id, tenant: named, for: caller)
        let now = clock.now()
        let event = Event(
            tenantID: webhook.tenantID, position: .start, id: UUIDv7.make(at: now).lowercasedString,
            source: "/tenants/\(webhook.tenantID)", type: "webhook.test",
            subject: "webhooks/\(webhook.id.lowercasedString)", time: now,
            data: [
                "webhook_id": .string(webhook.id.lowercasedString),
                "message": "A test delivery: the receiver verified the signature if it answered 2xx.",
            ],
            context: caller.eventContext)
        let delivery = WebhookDelivery(
            id: UUIDv7.make(at: now), tenantID: webhook.tenantID, webhookID: webhook.id, eventID: event.id,
            eventType: event.type, payload: String(decoding: webhook.format.render(event), as: UTF8.self),
            isTest: true, createdAt: now, updatedAt: now)
        try await store.webhooks.insertTestDelivery(delivery)
        let (attempt, _) = try await send(delivery, to: webhook)
        _ = try await store.webhooks.recordAttempt(
            attempt, outcome: attempt.succeeded ? .delivered : .dead, now: clock.now())
        return try await webhookDelivery(delivery.id, of: webhook.id, tenant: webhook.tenantID, for: caller)
    }

    /// Signs and sends the delivery's body once; answers the attempt to log and the raw response.
    func send(_ delivery: WebhookDelivery, to webhook: Webhook) async throws -> (WebhookAttempt, WebhookResponse) {
        let now = clock.now()
        let body = Array(delivery.payload.utf8)
        let timestamp = now.microsecondsSinceEpoch / 1_000_000
        var secrets: [String] = []
        for sealed in webhook.signingSecrets(at: now) {
            guard let box = toolSettings.secretBox else { break }
            secrets.append(try box.open(sealed, tenant: webhook.tenantID, name: webhook.secretSealName))
        }
        let response: WebhookResponse
        if let url = URL(string: webhook.url), !secrets.isEmpty {
            response = await webhookSettings.send(
                WebhookRequest(
                    url: url,
                    headers: [
                        ("content-type", "application/json"), ("user-agent", WebhookSettings.userAgent),
                        ("webhook-id", delivery.eventID), ("webhook-timestamp", String(timestamp)),
                        (
                            "webhook-signature",
                            WebhookSignature.header(
                                secrets: secrets, id: delivery.eventID, timestamp: timestamp, body: body)
                        ),
                    ],
                    body: body, timeout: webhookSettings.policy.timeout))
        } else {
            response = WebhookResponse(
                statusCode: nil, latencyMilliseconds: 0, error: "the webhook's URL or secret cannot be used",
                refused: true)
        }
        let attempt = WebhookAttempt(
            deliveryID: delivery.id, tenantID: delivery.tenantID, number: delivery.attempts + 1, attemptedAt: now,
            statusCode: response.statusCode, latencyMilliseconds: response.latencyMilliseconds,
            responseSnippet: response.snippet.map(WebhookAttempt.snippet), error: response.error)
        return (attempt, response)
    }

    static func failure(_ response: WebhookResponse) -> String {
        if let error = response.error { return error }
        return "the receiver answered HTTP \(response.statusCode.map(String.init) ?? "?")"
    }
}
