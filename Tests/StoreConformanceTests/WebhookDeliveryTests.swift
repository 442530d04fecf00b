import AgentplaneApp
import AgentplaneCore
import AgentplaneEngine
import AgentplaneStore
import AgentplaneTesting
import Foundation
import Testing

/// The delivery run's side, on both backends: the URL is checked against the outbound policy again at every
/// attempt (a host that now resolves to a private address — DNS rebinding, or a row written past the API — is
/// refused and nothing is sent), and a refused delivery goes dead at once, counted against its webhook.
@Suite(.timeLimit(.minutes(5))) struct WebhookDeliveryTests {
    static func useCases(_ store: any Store) throws -> UseCases {
        var useCases = UseCases(store: store, passwords: PasswordHasher(cost: 4))
        useCases.toolSettings.secretBox = try SecretBox(keyBytes: SecretBox.generateKeyBytes())
        let sender = WebhookSender(outbound: OutboundPolicy())
        useCases.webhookSettings = WebhookSettings(policy: WebhookPolicy(disableAfter: 3)) { await sender.send($0) }
        return useCases
    }

    @Test(arguments: TestBackend.allCases)
    func privateAddressesAreRefusedAtDeliveryTime(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let useCases = try Self.useCases(store)
            let tenant = try await Fixtures.createTenant(in: store).id
            let box = try #require(useCases.toolSettings.secretBox)
            var hooks: [Webhook] = []
            for url in ["http://127.0.0.1:9/hook", "http://169.254.169.254/latest", "http://10.0.0.7/hook"] {
                let id = UUIDv7.make()
                let now = Timestamp.now()
                // Stored past the API's check, as a host that resolved publicly at create time and privately now.
                let hook = Webhook(
                    id: id, tenantID: tenant, url: url, filter: .all, description: "", enabled: true,
                    format: .cloudevents,
                    sealedSecret: try box.seal(
                        WebhookSignature.generateSecret(), tenant: tenant, name: "webhook:\(id.lowercasedString)"),
                    version: 1, createdAt: now, updatedAt: now)
                try await store.webhooks.create(hook, record: Fixtures.record(tenant))
                hooks.append(hook)
            }
            let events = try await store.events.append([Fixtures.event("order.placed")], tenant: tenant)
            let made = WebhookDecisions.deliveries(for: events, to: hooks, policy: WebhookPolicy(), now: .now())
            #expect(try await store.webhooks.dispatch(made, cursor: "webhooks:\(tenant)", position: "x") == 3)
            for (delivery, _) in made {
                await #expect(throws: WebhookAttemptFailure.self) {
                    _ = try await useCases.deliverWebhook(delivery.id, tenant: tenant)
                }
                do {
                    _ = try await useCases.deliverWebhook(delivery.id, tenant: tenant)
                } catch let failure as WebhookAttemptFailure {
                    #expect(failure.permanent && failure.description.contains("not a public address"))
                }
                let attempts = try await store.webhooks.attempts(tenant: tenant, delivery: delivery.id)
                #expect(attempts.count == 2 && attempts.allSatisfy { $0.statusCode == nil })
                #expect(attempts.allSatisfy { $0.error?.hasPrefix("refused:") == true })
                // The run goes dead (a permanent failure): the delivery is dead and counted.
                try await useCases.abandonWebhookDelivery(
                    delivery.id, tenant: tenant, error: "refused", by: .worker("webhook.deliver", run: UUIDv7.make()))
                #expect(try await store.webhooks.delivery(tenant: tenant, id: delivery.id)?.status == .dead)
                #expect(try await store.webhooks.find(tenant: tenant, id: delivery.webhookID)?.consecutiveFailures == 1)
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aDisabledWebhooksDeliveriesEndSkippedAndTheThresholdDisables(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let useCases = try Self.useCases(store)
            let tenant = try await Fixtures.createTenant(in: store).id
            let now = Timestamp.now()
            var hook = Webhook(
                id: UUIDv7.make(), tenantID: tenant, url: "http://10.0.0.8/hook", filter: .all, description: "",
                enabled: true, format: .cloudevents, sealedSecret: "unused", version: 1, createdAt: now, updatedAt: now)
            hook.consecutiveFailures = 2
            try await store.webhooks.create(hook, record: Fixtures.record(tenant))
            let events = try await store.events.append(
                [Fixtures.event("a.b"), Fixtures.event("c.d")], tenant: tenant)
            let made = WebhookDecisions.deliveries(for: events, to: [hook], policy: WebhookPolicy(), now: .now())
            _ = try await store.webhooks.dispatch(made, cursor: "webhooks:\(tenant)", position: "x")
            // The third dead delivery in a row reaches the threshold: disabled, with its event.
            let disabled = try await useCases.abandonWebhookDelivery(
                made[0].0.id, tenant: tenant, error: "gave up", by: .worker("webhook.deliver", run: UUIDv7.make()))
            #expect(disabled)
            let stored = try #require(try await store.webhooks.find(tenant: tenant, id: hook.id))
            #expect(!stored.enabled && stored.version == 2 && stored.disabledReason != nil)
            let log = try await store.events.list(tenant: tenant, query: EventQuery(type: "webhook.disabled"))
            #expect(log.count == 1 && log[0].data["consecutive_failures"] == .int(3))
            // The other delivery, still pending, ends skipped without a request.
            let result = try await useCases.deliverWebhook(made[1].0.id, tenant: tenant)
            #expect(result == .skipped("the webhook is disabled"))
            #expect(try await store.webhooks.delivery(tenant: tenant, id: made[1].0.id)?.status == .skipped)
            #expect(try await store.webhooks.attempts(tenant: tenant, delivery: made[1].0.id).isEmpty)
        }
    }
}
