import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import PostgresNIO

extension PostgresWebhookStore {
    /// A transaction under `scope`, its errors translated.
    func transaction<T: Sendable>(_ scope: RowScope, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(scope, logger: logger, body)
        }
    }

    /// Webhooks matching `condition` (`$1…` for `binds`).
    func webhooks(_ scope: RowScope, _ condition: String, _ binds: PostgresBindings) async throws -> [Webhook] {
        try await PostgresErrors.translating {
            try await client.withScopedRead(
                scope, sql: "SELECT \(Self.webhookColumns) FROM webhooks \(condition)", binds: binds, logger: logger
            ) { rows in
                var webhooks: [Webhook] = []
                for try await row in rows { webhooks.append(try Self.webhook(row.makeRandomAccess())) }
                return webhooks
            }
        }
    }

    /// Deliveries of `tenant` matching `condition`.
    func deliveries(_ tenant: TenantID, _ condition: String, _ binds: PostgresBindings) async throws
        -> [WebhookDelivery]
    {
        try await PostgresErrors.translating {
            try await client.withScopedRead(
                .tenant(tenant), sql: "SELECT \(Self.deliveryColumns) FROM webhook_deliveries \(condition)",
                binds: binds, logger: logger
            ) { rows in
                var deliveries: [WebhookDelivery] = []
                for try await row in rows { deliveries.append(try Self.delivery(row.makeRandomAccess())) }
                return deliveries
            }
        }
    }

    /// The delivery, locked for the rest of the transaction.
    static func lockedDelivery(tenant: TenantID, id: UUID, on connection: PostgresConnection, logger: Logger)
        async throws -> WebhookDelivery?
    {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(id)
        let rows = try await connection.guardedQuery(
            PostgresQuery(
                unsafeSQL:
                    "SELECT \(deliveryColumns) FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
                binds: binds),
            logger: logger)
        for try await row in rows { return try delivery(row.makeRandomAccess()) }
        return nil
    }

    /// Inserts a delivery unless the webhook already has one for the event; answers whether it did.
    static func insert(_ delivery: WebhookDelivery, on connection: PostgresConnection, logger: Logger) async throws
        -> Bool
    {
        var inserted = false
        for try await _ in try await connection.guardedQuery(
            """
            INSERT INTO webhook_deliveries (id, tenant_id, webhook_id, event_id, event_type, payload, status, attempts,
                last_status_code, last_error, run_id, is_test, created_at, updated_at)
            VALUES (\(delivery.id), \(delivery.tenantID.rawValue), \(delivery.webhookID), \(delivery.eventID),
                \(delivery.eventType), \(delivery.payload), \(delivery.status.rawValue), \(delivery.attempts),
                \(delivery.lastStatusCode), \(delivery.lastError), \(delivery.runID), \(delivery.isTest),
                ap_ts(\(delivery.createdAt.microsecondsSinceEpoch)), ap_ts(\(delivery.updatedAt.microsecondsSinceEpoch)))
            ON CONFLICT (webhook_id, event_id) DO NOTHING RETURNING id
            """,
            logger: logger
        ) {
            inserted = true
        }
        return inserted
    }

    static let webhookColumns = """
        id, tenant_id, url, event_types::text AS event_types, description, enabled, format, secret_sealed,
        previous_secret_sealed, ap_micros(previous_secret_expires_at) AS previous_secret_expires_at,
        consecutive_failures, disabled_reason, version, ap_micros(created_at) AS created_at,
        ap_micros(updated_at) AS updated_at
        """

    static let deliveryColumns = """
        id, tenant_id, webhook_id, event_id, event_type, payload, status, attempts, last_status_code, last_error,
        run_id, is_test, ap_micros(created_at) AS created_at, ap_micros(updated_at) AS updated_at
        """

    static func json(_ strings: [String]) -> String { JSONValue.array(strings.map(JSONValue.string)).jsonText }

    static func webhook(_ row: PostgresRandomAccessRow) throws -> Webhook {
        guard let types = JSONValue(parsing: try row["event_types"].decode(String.self))?.arrayValue,
            let filter = try? EventFilter(types: types.compactMap(\.stringValue), subject: nil),
            let format = EventFormat(rawValue: try row["format"].decode(String.self))
        else { throw StoreError(.corruptData, "A stored webhook could not be decoded.") }
        return Webhook(
            id: try row["id"].decode(UUID.self), tenantID: TenantID(try row["tenant_id"].decode(UUID.self)),
            url: try row["url"].decode(String.self), filter: filter,
            description: try row["description"].decode(String.self), enabled: try row["enabled"].decode(Bool.self),
            format: format, sealedSecret: try row["secret_sealed"].decode(String.self),
            sealedPreviousSecret: try row["previous_secret_sealed"].decode(String?.self),
            previousSecretExpiresAt: try row["previous_secret_expires_at"].decode(Int64?.self).map(
                Timestamp.init(microsecondsSinceEpoch:)),
            consecutiveFailures: try row["consecutive_failures"].decode(Int.self),
            disabledReason: try row["disabled_reason"].decode(String?.self),
            version: try row["version"].decode(Int64.self),
            createdAt: Timestamp(microsecondsSinceEpoch: try row["created_at"].decode(Int64.self)),
            updatedAt: Timestamp(microsecondsSinceEpoch: try row["updated_at"].decode(Int64.self)))
    }

    static func delivery(_ row: PostgresRandomAccessRow) throws -> WebhookDelivery {
        guard let status = WebhookDeliveryStatus(rawValue: try row["status"].decode(String.self)) else {
            throw StoreError(.corruptData, "A stored webhook delivery could not be decoded.")
        }
        return WebhookDelivery(
            id: try row["id"].decode(UUID.self), tenantID: TenantID(try row["tenant_id"].decode(UUID.self)),
            webhookID: try row["webhook_id"].decode(UUID.self), eventID: try row["event_id"].decode(String.self),
            eventType: try row["event_type"].decode(String.self), payload: try row["payload"].decode(String.self),
            status: status, attempts: try row["attempts"].decode(Int.self),
            lastStatusCode: try row["last_status_code"].decode(Int?.self),
            lastError: try row["last_error"].decode(String?.self), runID: try row["run_id"].decode(UUID?.self),
            isTest: try row["is_test"].decode(Bool.self),
            createdAt: Timestamp(microsecondsSinceEpoch: try row["created_at"].decode(Int64.self)),
            updatedAt: Timestamp(microsecondsSinceEpoch: try row["updated_at"].decode(Int64.self)))
    }
}
