import AgentplaneAPI
import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import Foundation
import OpenAPIRuntime

extension APIHandler {
    func listWebhooks(_ input: Operations.ListWebhooks.Input) async throws -> Operations.ListWebhooks.Output {
        let after = try input.query.cursor.map { text in
            guard let id = UUID(canonical: text) else { throw Paging.badCursor }
            return id
        }
        let page = try await useCases.listWebhooks(
            after: after, limit: try Paging.limit(input.query.limit), tenant: try Self.tenant(input.headers.xTenantID),
            for: try caller("listWebhooks"))
        return .ok(
            .init(
                body: .json(
                    .init(
                        webhooks: page.items.map(Components.Schemas.Webhook.init),
                        nextCursor: page.hasMore ? page.items.last?.id.lowercasedString : nil))))
    }

    func createWebhook(_ input: Operations.CreateWebhook.Input) async throws -> Operations.CreateWebhook.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let created = try await useCases.createWebhook(
            Self.fields(body, expectedVersion: nil), tenant: try Self.tenant(input.headers.xTenantID),
            by: try caller("createWebhook"))
        return .created(
            .init(
                headers: .init(eTag: Self.etag(created.webhook.version)),
                body: .json(.init(webhook: .init(created.webhook), signingSecret: created.secret))))
    }

    func getWebhook(_ input: Operations.GetWebhook.Input) async throws -> Operations.GetWebhook.Output {
        let webhook = try await useCases.webhook(
            try Self.id(input.path.webhookId, "webhook"), tenant: try Self.tenant(input.headers.xTenantID),
            for: try caller("getWebhook"))
        return .ok(.init(headers: .init(eTag: Self.etag(webhook.version)), body: .json(.init(webhook))))
    }

    func updateWebhook(_ input: Operations.UpdateWebhook.Input) async throws -> Operations.UpdateWebhook.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let webhook = try await useCases.updateWebhook(
            try Self.id(input.path.webhookId, "webhook"),
            Self.fields(body, expectedVersion: try input.headers.ifMatch.map(Self.version(fromETag:))),
            tenant: try Self.tenant(input.headers.xTenantID), by: try caller("updateWebhook"))
        return .ok(.init(headers: .init(eTag: Self.etag(webhook.version)), body: .json(.init(webhook))))
    }

    func deleteWebhook(_ input: Operations.DeleteWebhook.Input) async throws -> Operations.DeleteWebhook.Output {
        try await useCases.deleteWebhook(
            try Self.id(input.path.webhookId, "webhook"), tenant: try Self.tenant(input.headers.xTenantID),
            by: try caller("deleteWebhook"))
        return .noContent(.init())
    }

    func rotateWebhookSecret(_ input: Operations.RotateWebhookSecret.Input) async throws
        -> Operations.RotateWebhookSecret.Output
    {
        let rotated = try await useCases.rotateWebhookSecret(
            try Self.id(input.path.webhookId, "webhook"), tenant: try Self.tenant(input.headers.xTenantID),
            by: try caller("rotateWebhookSecret"))
        return .ok(
            .init(
                headers: .init(eTag: Self.etag(rotated.webhook.version)),
                body: .json(.init(webhook: .init(rotated.webhook), signingSecret: rotated.secret))))
    }

    func testWebhook(_ input: Operations.TestWebhook.Input) async throws -> Operations.TestWebhook.Output {
        let (delivery, attempts) = try await useCases.testWebhook(
            try Self.id(input.path.webhookId, "webhook"), tenant: try Self.tenant(input.headers.xTenantID),
            by: try caller("testWebhook"))
        return .ok(.init(body: .json(.init(delivery, attempts: attempts))))
    }

    func listWebhookDeliveries(_ input: Operations.ListWebhookDeliveries.Input) async throws
        -> Operations.ListWebhookDeliveries.Output
    {
        var query = WebhookDeliveryQuery(limit: try Paging.limit(input.query.limit))
        if let text = input.query.status {
            guard let status = WebhookDeliveryStatus(rawValue: text) else {
                throw AgentplaneError.badQuery([
                    FieldError(pointer: "status", message: "must be pending, succeeded, dead or skipped")
                ])
            }
            query.status = status
        }
        if let cursor = input.query.cursor {
            guard let id = UUID(canonical: cursor) else { throw Paging.badCursor }
            query.before = id
        }
        let tenant = try Self.tenant(input.headers.xTenantID)
        let caller = try caller("listWebhookDeliveries")
        let webhookID = try Self.id(input.path.webhookId, "webhook")
        let page = try await useCases.webhookDeliveries(webhookID, query: query, tenant: tenant, for: caller)
        var deliveries: [Components.Schemas.WebhookDelivery] = []
        for delivery in page.items {
            let attempts = try await useCases.store.webhooks.attempts(tenant: delivery.tenantID, delivery: delivery.id)
            deliveries.append(.init(delivery, attempts: attempts))
        }
        return .ok(
            .init(
                body: .json(
                    .init(
                        deliveries: deliveries,
                        nextCursor: page.hasMore ? page.items.last?.id.lowercasedString : nil))))
    }

    func getWebhookDelivery(_ input: Operations.GetWebhookDelivery.Input) async throws
        -> Operations.GetWebhookDelivery.Output
    {
        let (delivery, attempts) = try await useCases.webhookDelivery(
            try Self.id(input.path.deliveryId, "delivery"), of: try Self.id(input.path.webhookId, "webhook"),
            tenant: try Self.tenant(input.headers.xTenantID), for: try caller("getWebhookDelivery"))
        return .ok(.init(body: .json(.init(delivery, attempts: attempts))))
    }

    func replayWebhookDelivery(_ input: Operations.ReplayWebhookDelivery.Input) async throws
        -> Operations.ReplayWebhookDelivery.Output
    {
        let delivery = try await useCases.replayWebhookDelivery(
            try Self.id(input.path.deliveryId, "delivery"), of: try Self.id(input.path.webhookId, "webhook"),
            tenant: try Self.tenant(input.headers.xTenantID), by: try caller("replayWebhookDelivery"))
        let attempts = try await useCases.store.webhooks.attempts(tenant: delivery.tenantID, delivery: delivery.id)
        return .accepted(.init(body: .json(.init(delivery, attempts: attempts))))
    }

    func replayWebhookDeliveries(_ input: Operations.ReplayWebhookDeliveries.Input) async throws
        -> Operations.ReplayWebhookDeliveries.Output
    {
        let replayed = try await useCases.replayDeadWebhookDeliveries(
            try Self.id(input.path.webhookId, "webhook"), limit: try Paging.limit(input.query.limit),
            tenant: try Self.tenant(input.headers.xTenantID), by: try caller("replayWebhookDeliveries"))
        return .ok(.init(body: .json(.init(replayed: replayed.map { .init($0, attempts: []) }))))
    }

    static func fields(_ body: Components.Schemas.NewWebhook, expectedVersion: Int64?) -> WebhookFields {
        WebhookFields(
            url: body.url, eventTypes: body.eventTypes, description: body.description, enabled: body.enabled,
            format: body.format, expectedVersion: expectedVersion)
    }
}

extension Components.Schemas.Webhook {
    init(_ webhook: Webhook) {
        self.init(
            id: webhook.id.lowercasedString, tenantId: webhook.tenantID.description, url: webhook.url,
            eventTypes: webhook.filter.types.isEmpty ? ["*"] : webhook.filter.types,
            description: webhook.description, enabled: webhook.enabled, format: webhook.format.rawValue,
            consecutiveFailures: webhook.consecutiveFailures, disabledReason: webhook.disabledReason,
            previousSecretExpiresAt: webhook.previousSecretExpiresAt.flatMap { expires in
                webhook.sealedPreviousSecret == nil ? nil : expires.date
            },
            version: Int(webhook.version), createdAt: webhook.createdAt.date, updatedAt: webhook.updatedAt.date)
    }
}

extension Components.Schemas.WebhookDelivery {
    init(_ delivery: WebhookDelivery, attempts: [WebhookAttempt]) {
        self.init(
            id: delivery.id.lowercasedString, webhookId: delivery.webhookID.lowercasedString,
            eventId: delivery.eventID, eventType: delivery.eventType,
            status: .init(rawValue: delivery.status.rawValue)!, attempts: delivery.attempts,
            lastStatusCode: delivery.lastStatusCode, lastError: delivery.lastError,
            runId: delivery.runID?.lowercasedString, isTest: delivery.isTest, createdAt: delivery.createdAt.date,
            updatedAt: delivery.updatedAt.date,
            attemptLog: attempts.map {
                .init(
                    number: $0.number, attemptedAt: $0.attemptedAt.date, statusCode: $0.statusCode,
                    latencyMs: $0.latencyMilliseconds, responseSnippet: $0.responseSnippet, error: $0.error)
            })
    }
}
