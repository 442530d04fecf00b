import AgentplaneCore
import AgentplaneStore
import AgentplaneTesting
import Foundation
import Testing

/// Webhooks, their deliveries and attempts: versioned writes, tenant isolation, one delivery per webhook and
/// event committed with its run and the cursor, bounded attempt logs, failure counts, replay — on both backends.
@Suite(.timeLimit(.minutes(3))) struct WebhookStoreConformance {
    static func webhook(_ tenant: TenantID, url: String = "https://example.com/hook", types: [String] = ["*"])
        throws -> Webhook
    {
        let now = Timestamp.now()
        return Webhook(
            id: UUIDv7.make(), tenantID: tenant, url: url, filter: try EventFilter(types: types, subject: nil),
            description: "d", enabled: true, format: .cloudevents, sealedSecret: "sealed-1", version: 1,
            createdAt: now, updatedAt: now)
    }

    @Test(arguments: TestBackend.allCases)
    func webhooksAreVersionedAndIsolatedByTenant(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let other = try await Fixtures.createTenant(in: store).id
            let hook = try Self.webhook(tenant, types: ["instance.*", "task.created"])
            try await store.webhooks.create(hook, record: Fixtures.record(tenant))
            let found = try #require(try await store.webhooks.find(tenant: tenant, id: hook.id))
            #expect(found == hook)
            #expect(try await store.webhooks.find(tenant: other, id: hook.id) == nil)
            #expect(try await store.webhooks.list(tenant: other, after: nil, limit: 10).isEmpty)
            var next = found
            next.enabled = false
            next.sealedPreviousSecret = "sealed-0"
            next.previousSecretExpiresAt = Timestamp(microsecondsSinceEpoch: 1_000_000)
            next.version = 2
            try await store.webhooks.update(next, expectedVersion: 1, record: Fixtures.record(tenant))
            #expect(try await store.webhooks.find(tenant: tenant, id: hook.id) == next)
            await #expect(throws: StoreError.self) {
                var stale = next
                stale.version = 3
                try await store.webhooks.update(stale, expectedVersion: 1, record: Fixtures.record(tenant))
            }
            #expect(try await store.webhooks.tenantsWithEnabledWebhooks().isEmpty)
            let second = try Self.webhook(tenant)
            try await store.webhooks.create(second, record: Fixtures.record(tenant))
            #expect(try await store.webhooks.tenantsWithEnabledWebhooks() == [tenant])
            #expect(try await store.webhooks.enabled(tenant: tenant).map(\.id) == [second.id])
            let page = try await store.webhooks.list(tenant: tenant, after: nil, limit: 1)
            #expect(page.map(\.id) == [hook.id])
            #expect(try await store.webhooks.list(tenant: tenant, after: hook.id, limit: 5).map(\.id) == [second.id])
            await #expect(throws: StoreError.self) {
                try await store.webhooks.delete(tenant: other, id: hook.id, record: Fixtures.record(other))
            }
            try await store.webhooks.delete(tenant: tenant, id: hook.id, record: Fixtures.record(tenant))
            #expect(try await store.webhooks.find(tenant: tenant, id: hook.id) == nil)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func deliveriesAreMadeOnceWithTheirRunsAndTheCursor(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let other = try await Fixtures.createTenant(in: store).id
            let hook = try Self.webhook(tenant, types: ["order.*"])
            try await store.webhooks.create(hook, record: Fixtures.record(tenant))
            let events = try await store.events.append(
                [Fixtures.event("order.placed"), Fixtures.event("user.seen"), Fixtures.event("order.paid")],
                tenant: tenant)
            let made = WebhookDecisions.deliveries(
                for: events, to: [hook], policy: WebhookPolicy(), now: .now())
            #expect(made.map(\.0.eventType) == ["order.placed", "order.paid"])
            let cursor = "webhooks:\(tenant)"
            #expect(
                try await store.webhooks.dispatch(made, cursor: cursor, position: events[2].position.description) == 2)
            #expect(try await store.tasks.cursor(cursor) == events[2].position.description)
            // The same events again (a crash before the cursor moved, another node): nothing doubles.
            let again = WebhookDecisions.deliveries(for: events, to: [hook], policy: WebhookPolicy(), now: .now())
            #expect(
                try await store.webhooks.dispatch(again, cursor: cursor, position: events[2].position.description) == 0)
            let listed = try await store.webhooks.deliveries(
                tenant: tenant, webhook: hook.id, query: WebhookDeliveryQuery())
            #expect(Set(listed.map(\.eventID)) == [events[2].id, events[0].id])
            let runs = try await store.runs.list(tenant: tenant, query: RunQuery(kind: WebhookDecisions.deliverRun))
            #expect(Set(runs.map(\.id)) == Set(listed.compactMap(\.runID)))
            #expect(try await store.webhooks.deliveries(tenant: other, webhook: hook.id, query: .init()).isEmpty)
            #expect(try await store.webhooks.delivery(tenant: other, id: listed[0].id) == nil)
            // The body is the event in the webhook's format, rendered once.
            let placed = try #require(listed.first { $0.eventID == events[0].id })
            let body = try #require(JSONValue(parsing: placed.payload))
            #expect(body["id"]?.stringValue == events[0].id && body["type"] == "order.placed")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func attemptsAreLoggedBoundedAndCountFailures(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let hook = try Self.webhook(tenant)
            try await store.webhooks.create(hook, record: Fixtures.record(tenant))
            let events = try await store.events.append([Fixtures.event("a.b"), Fixtures.event("c.d")], tenant: tenant)
            let made = WebhookDecisions.deliveries(for: events, to: [hook], policy: WebhookPolicy(), now: .now())
            _ = try await store.webhooks.dispatch(made, cursor: "webhooks:\(tenant)", position: "x")
            let first = made[0].0
            let second = made[1].0
            for number in 1...(WebhookAttempt.keptPerDelivery + 3) {
                let attempt = WebhookAttempt(
                    deliveryID: first.id, tenantID: tenant, number: number, attemptedAt: .now(), statusCode: 500,
                    latencyMilliseconds: 7, responseSnippet: "no", error: nil)
                #expect(try await store.webhooks.recordAttempt(attempt, outcome: .retrying, now: .now()))
            }
            let attempts = try await store.webhooks.attempts(tenant: tenant, delivery: first.id)
            #expect(attempts.count == WebhookAttempt.keptPerDelivery)
            #expect(attempts.last?.number == WebhookAttempt.keptPerDelivery + 3 && attempts.last?.statusCode == 500)
            #expect(try await store.webhooks.delivery(tenant: tenant, id: first.id)?.attempts == 28)
            // Dead: the webhook's failures rise; a second end changes nothing.
            let after = try #require(
                try await store.webhooks.endDelivery(
                    tenant: tenant, id: first.id, status: .dead, error: "x", now: .now()))
            #expect(after.consecutiveFailures == 1)
            #expect(
                try await store.webhooks.endDelivery(
                    tenant: tenant, id: first.id, status: .dead, error: nil, now: .now()) == nil)
            let late = WebhookAttempt(
                deliveryID: first.id, tenantID: tenant, number: 1, attemptedAt: .now(), statusCode: 200,
                latencyMilliseconds: 1, responseSnippet: nil, error: nil)
            #expect(try await !store.webhooks.recordAttempt(late, outcome: .delivered, now: .now()))
            // A delivered one resets the count.
            let ok = WebhookAttempt(
                deliveryID: second.id, tenantID: tenant, number: 1, attemptedAt: .now(), statusCode: 204,
                latencyMilliseconds: 3, responseSnippet: "", error: nil)
            #expect(try await store.webhooks.recordAttempt(ok, outcome: .delivered, now: .now()))
            #expect(try await store.webhooks.find(tenant: tenant, id: hook.id)?.consecutiveFailures == 0)
            #expect(try await store.webhooks.delivery(tenant: tenant, id: second.id)?.status == .succeeded)
            // Replay: a dead one goes back to pending with a new run; a succeeded one is a 409.
            let run = WebhookDecisions.deliveryRun(first, policy: WebhookPolicy(), now: .now())
            let replayed = try await store.webhooks.replay(
                tenant: tenant, id: first.id, run: run, record: Fixtures.record(tenant))
            #expect(replayed.status == .pending && replayed.runID == run.id)
            #expect(try await store.runs.find(tenant: tenant, id: run.id)?.status == .queued)
            await #expect(throws: AgentplaneError.self) {
                try await store.webhooks.replay(
                    tenant: tenant, id: second.id,
                    run: WebhookDecisions.deliveryRun(second, policy: WebhookPolicy(), now: .now()),
                    record: Fixtures.record(tenant))
            }
            // Deleting the webhook takes its deliveries and attempts along.
            try await store.webhooks.delete(tenant: tenant, id: hook.id, record: Fixtures.record(tenant))
            #expect(try await store.webhooks.delivery(tenant: tenant, id: first.id) == nil)
            #expect(try await store.webhooks.attempts(tenant: tenant, delivery: first.id).isEmpty)
        }
    }
}
