import AgentplaneCore
import AgentplaneStore
import Foundation

/// A webhook with its signing secret, answered once (by create and by rotate).
public struct WebhookWithSecret: Sendable {
    /// The webhook.
    public var webhook: Webhook
    /// The plain secret (`whsec_…`); never stored plain, never shown again.
    public var secret: String
}

extension UseCases {
    /// The name of a tenant's cursor in the event log, as the webhook dispatcher keeps it.
    public static func webhookCursorName(_ tenant: TenantID) -> String { "webhooks:\(tenant.description)" }

    /// Creates a webhook (its URL checked against the SSRF policy) with a new signing secret, shown once.
    public func createWebhook(_ fields: WebhookFields, tenant named: TenantID?, by caller: Caller) async throws
        -> WebhookWithSecret
    {
        let tenant = try await actingTenant(named, for: caller)
        _ = try WebhookDecisions.checked(fields)
        try await checkReachable(fields.url)
        let id = UUIDv7.make()
        let secret = WebhookSignature.generateSecret()
        let now = clock.now()
        let (webhook, events) = try WebhookDecisions.create(
            fields, id: id, tenant: tenant,
            sealedSecret: try seal(secret, tenant: tenant, webhook: id), context: caller.eventContext, now: now)
        if webhook.enabled { try await startWebhookCursor(tenant) }
        try await store.webhooks.create(
            webhook, record: caller.record(Self.resource(webhook), status: 201, events: events, at: now))
        return WebhookWithSecret(webhook: webhook, secret: secret)
    }

    /// The tenant's webhooks by id (asked with one extra row).
    public func listWebhooks(after: UUID?, limit: Int, tenant named: TenantID?, for caller: Caller) async throws
        -> Page<Webhook>
    {
        let tenant = try await actingTenant(named, for: caller)
        return Page(
            fetched: try await store.webhooks.list(tenant: tenant, after: after, limit: limit + 1), limit: limit)
    }

    /// One webhook (else 404).
    public func webhook(_ id: UUID, tenant named: TenantID?, for caller: Caller) async throws -> Webhook {
        let tenant = try await actingTenant(named, for: caller)
        guard let webhook = try await store.webhooks.find(tenant: tenant, id: id) else {
            throw AgentplaneError(.notFound, "No such webhook.")
        }
        return webhook
    }

    /// Replaces a webhook's settings (`If-Match` optional); enabling a disabled one clears its failures.
    public func updateWebhook(_ id: UUID, _ fields: WebhookFields, tenant named: TenantID?, by caller: Caller)
        async throws -> Webhook
    {
        let current = try await webhook(id, tenant: named, for: caller)
        let now = clock.now()
        let change = try WebhookDecisions.update(current, fields, context: caller.eventContext, now: now)
        if change.state.url != current.url { try await checkReachable(change.state.url) }
        if change.state.enabled, !current.enabled { try await startWebhookCursor(current.tenantID) }
        try await checkingVersion(of: "webhook", expected: change.expectedVersion, current: current.version) {
            try await store.webhooks.update(
                change.state, expectedVersion: change.expectedVersion,
                record: caller.record(Self.resource(current), status: 200, events: change.events, at: now))
        }
        return change.state
    }

    /// Deletes a webhook with its deliveries (those waiting end without being sent).
    public func deleteWebhook(_ id: UUID, tenant named: TenantID?, by caller: Caller) async throws {
        let webhook = try await webhook(id, tenant: named, for: caller)
        let now = clock.now()
        try await store.webhooks.delete(
            tenant: webhook.tenantID, id: webhook.id,
            record: caller.record(
                Self.resource(webhook), status: 204,
                events: [Events.webhook(.webhookDeleted, webhook, context: caller.eventContext, at: now)], at: now))
    }

    /// A new signing secret, shown once; the previous one keeps signing during the policy's grace period.
    public func rotateWebhookSecret(_ id: UUID, tenant named: TenantID?, by caller: Caller) async throws
        -> WebhookWithSecret
    {
        let current = try await webhook(id, tenant: named, for: caller)
        let secret = WebhookSignature.generateSecret()
        let now = clock.now()
        let change = WebhookDecisions.rotate(
            current, newSealedSecret: try seal(secret, tenant: current.tenantID, webhook: current.id),
            graceSeconds: webhookSettings.policy.rotationGraceSeconds, context: caller.eventContext, now: now)
        try await checkingVersion(of: "webhook", expected: change.expectedVersion, current: current.version) {
            try await store.webhooks.update(
                change.state, expectedVersion: change.expectedVersion,
                record: caller.record(Self.resource(current), status: 200, events: change.events, at: now))
        }
        return WebhookWithSecret(webhook: change.state, secret: secret)
    }

    /// A webhook's deliveries, newest first (asked with one extra row).
    public func webhookDeliveries(
        _ id: UUID, query: WebhookDeliveryQuery, tenant named: TenantID?, for caller: Caller
    ) async throws -> Page<WebhookDelivery> {
        let webhook = try await webhook(id, tenant: named, for: caller)
        var asked = query
        asked.limit = query.limit + 1
        return Page(
            fetched: try await store.webhooks.deliveries(tenant: webhook.tenantID, webhook: webhook.id, query: asked),
            limit: query.limit)
    }

    /// One delivery of a webhook with its attempts (else 404).
    public func webhookDelivery(_ id: UUID, of webhookID: UUID, tenant named: TenantID?, for caller: Caller)
        async throws -> (WebhookDelivery, [WebhookAttempt])
    {
        let webhook = try await webhook(webhookID, tenant: named, for: caller)
        guard let delivery = try await store.webhooks.delivery(tenant: webhook.tenantID, id: id),
            delivery.webhookID == webhook.id
        else { throw AgentplaneError(.notFound, "No such delivery.") }
        return (delivery, try await store.webhooks.attempts(tenant: webhook.tenantID, delivery: id))
    }

    /// Sends a dead or skipped delivery again (a new run, the same `webhook-id`); 409 for any other.
    public func replayWebhookDelivery(_ id: UUID, of webhookID: UUID, tenant named: TenantID?, by caller: Caller)
        async throws -> WebhookDelivery
    {
        let (delivery, _) = try await webhookDelivery(id, of: webhookID, tenant: named, for: caller)
        return try await replay(delivery, by: caller)
    }

    /// Replays a webhook's dead deliveries, at most `limit` (the newest), the oldest of them first; answers them.
    public func replayDeadWebhookDeliveries(
        _ webhookID: UUID, limit: Int, tenant named: TenantID?, by caller: Caller
    ) async throws -> [WebhookDelivery] {
        let webhook = try await webhook(webhookID, tenant: named, for: caller)
        let dead = try await store.webhooks.deliveries(
            tenant: webhook.tenantID, webhook: webhook.id, query: WebhookDeliveryQuery(status: .dead, limit: limit))
        var replayed: [WebhookDelivery] = []
        for delivery in dead.reversed() {
            do {
                replayed.append(try await replay(delivery, by: caller))
            } catch let error as AgentplaneError where error.code == .illegalTransition {
                continue  // replayed by someone else in the meantime
            }
        }
        return replayed
    }

    private func replay(_ delivery: WebhookDelivery, by caller: Caller) async throws -> WebhookDelivery {
        let now = clock.now()
        let run = WebhookDecisions.deliveryRun(delivery, policy: webhookSettings.policy, now: now)
        return try await store.webhooks.replay(
            tenant: delivery.tenantID, id: delivery.id, run: run,
            record: caller.record(
                AuditedResource(
                    tenant: delivery.tenantID, type: "webhook_delivery", id: delivery.id.lowercasedString),
                status: 202, events: [], details: ["webhook_id": .string(delivery.webhookID.lowercasedString)],
                at: now))
    }

    /// Before a webhook starts delivering while the tenant has no other enabled one: the dispatcher's cursor
    /// moves to the log's end, so the webhook receives the events committed from now on (not those of a
    /// time when nothing was subscribed).
    func startWebhookCursor(_ tenant: TenantID) async throws {
        guard try await store.webhooks.enabled(tenant: tenant).isEmpty else { return }
        try await store.tasks.setCursor(
            Self.webhookCursorName(tenant), to: try await store.events.latestPosition(tenant: tenant).description)
    }

    /// 422 naming `/url` when the SSRF policy refuses the URL's host.
    func checkReachable(_ text: String) async throws {
        guard let url = URL(string: text), let refusal = await toolSettings.urlCheck(url) else { return }
        throw AgentplaneError.validation([FieldError(pointer: "/url", message: refusal)])
    }

    func seal(_ secret: String, tenant: TenantID, webhook: UUID) throws -> String {
        guard let box = toolSettings.secretBox else {
            throw AgentplaneError(.internalError, "No secrets key is configured: webhook secrets cannot be sealed.")
        }
        return try box.seal(secret, tenant: tenant, name: "webhook:\(webhook.lowercasedString)")
    }

    static func resource(_ webhook: Webhook) -> AuditedResource {
        AuditedResource(tenant: webhook.tenantID, type: "webhook", id: webhook.id.lowercasedString)
    }
}
