import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import PostgresNIO

/// Webhooks, their deliveries and attempts on PostgreSQL; wakes the workers after a commit that enqueued
/// delivery runs.
struct PostgresWebhookStore: WebhookStore {
    let client: PostgresClient
    let logger: Logger
    let wake: @Sendable () -> Void

    func create(_ webhook: Webhook, record: ChangeRecord) async throws {
        try await transaction(.tenant(webhook.tenantID)) { connection in
            try await connection.guardedQuery(
                """
                INSERT INTO webhooks (id, tenant_id, url, event_types, description, enabled, format, secret_sealed,
                    previous_secret_sealed, previous_secret_expires_at, consecutive_failures, disabled_reason, version,
                    created_at, updated_at)
                VALUES (\(webhook.id), \(webhook.tenantID.rawValue), \(webhook.url),
                    \(Self.json(webhook.filter.types))::jsonb, \(webhook.description), \(webhook.enabled),
                    \(webhook.format.rawValue), \(webhook.sealedSecret), \(webhook.sealedPreviousSecret),
                    ap_ts(\(webhook.previousSecretExpiresAt?.microsecondsSinceEpoch)), \(webhook.consecutiveFailures),
                    \(webhook.disabledReason), \(webhook.version), ap_ts(\(webhook.createdAt.microsecondsSinceEpoch)),
                    ap_ts(\(webhook.updatedAt.microsecondsSinceEpoch)))
                """,
                logger: logger)
            try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
        }
    }

    func find(tenant: TenantID, id: UUID) async throws -> Webhook? {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(id)
        return try await webhooks(.tenant(tenant), "WHERE tenant_id = $1 AND id = $2", binds).first
    }

    func list(tenant: TenantID, after: UUID?, limit: Int) async throws -> [Webhook] {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(after ?? UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))
        binds.append(limit)
        return try await webhooks(.tenant(tenant), "WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3", binds)
    }

    func update(_ webhook: Webhook, expectedVersion: Int64, record: ChangeRecord) async throws {
        try StoreError.checkVersion(webhook.version, after: expectedVersion)
        try await transaction(.tenant(webhook.tenantID)) { connection in
            var updated = false
            for try await _ in try await connection.guardedQuery(
                """
                UPDATE webhooks SET url = \(webhook.url), event_types = \(Self.json(webhook.filter.types))::jsonb,
                    description = \(webhook.description), enabled = \(webhook.enabled),
                    format = \(webhook.format.rawValue), secret_sealed = \(webhook.sealedSecret),
                    previous_secret_sealed = \(webhook.sealedPreviousSecret),
                    previous_secret_expires_at = ap_ts(\(webhook.previousSecretExpiresAt?.microsecondsSinceEpoch)),
                    consecutive_failures = \(webhook.consecutiveFailures), disabled_reason = \(webhook.disabledReason),
                    version = \(webhook.version), updated_at = ap_ts(\(webhook.updatedAt.microsecondsSinceEpoch))
                WHERE tenant_id = \(webhook.tenantID.rawValue) AND id = \(webhook.id) AND version = \(expectedVersion)
                RETURNING id
                """,
                logger: logger
            ) {
                updated = true
            }
            guard updated else {
                let exists = try await PostgresRows.exists(
                    on: connection, table: "webhooks", id: webhook.id, tenant: webhook.tenantID, logger: logger)
                throw StoreError.conditionalWriteMissed("webhook", rowExists: exists)
            }
            try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
        }
    }

    func delete(tenant: TenantID, id: UUID, record: ChangeRecord) async throws {
        try await transaction(.tenant(tenant)) { connection in
            var deleted = false
            for try await _ in try await connection.guardedQuery(
                "DELETE FROM webhooks WHERE tenant_id = \(tenant.rawValue) AND id = \(id) RETURNING id", logger: logger
            ) {
                deleted = true
            }
            guard deleted else { throw StoreError(.notFound, "No such webhook.") }
            try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
        }
    }

    func tenantsWithEnabledWebhooks() async throws -> [TenantID] {
        try await PostgresErrors.translating {
            try await client.withScopedRead(
                .platformWide, sql: "SELECT DISTINCT tenant_id FROM webhooks WHERE enabled ORDER BY tenant_id",
                binds: PostgresBindings(), logger: logger
            ) { rows in
                var tenants: [TenantID] = []
                for try await id in rows.decode(UUID.self) { tenants.append(TenantID(id)) }
                return tenants
            }
        }
    }

    func enabled(tenant: TenantID) async throws -> [Webhook] {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        return try await webhooks(.tenant(tenant), "WHERE tenant_id = $1 AND enabled ORDER BY id", binds)
    }

    func dispatch(_ deliveries: [(WebhookDelivery, NewRun)], cursor: String, position: String) async throws -> Int {
        let inserted = try await transaction(.platformWide) { connection in
            var inserted = 0
            for (delivery, run) in deliveries
            where try await Self.insert(delivery, on: connection, logger: logger) {
                _ = try await PostgresRunQueue.enqueue(run, on: connection, logger: logger)
                inserted += 1
            }
            try await connection.guardedQuery(
                """
                INSERT INTO scheduler_cursors (name, position) VALUES (\(cursor), \(position))
                ON CONFLICT (name) DO UPDATE SET position = excluded.position
                """,
                logger: logger)
            return inserted
        }
        if inserted > 0 { wake() }
        return inserted
    }

    func insertTestDelivery(_ delivery: WebhookDelivery) async throws {
        try await transaction(.tenant(delivery.tenantID)) { connection in
            _ = try await Self.insert(delivery, on: connection, logger: logger)
        }
    }

    func delivery(tenant: TenantID, id: UUID) async throws -> WebhookDelivery? {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(id)
        return try await deliveries(tenant, "WHERE tenant_id = $1 AND id = $2", binds).first
    }

    func deliveries(tenant: TenantID, webhook: UUID, query: WebhookDeliveryQuery) async throws -> [WebhookDelivery] {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(webhook)
        binds.append(query.status?.rawValue)
        binds.append(query.before)
        binds.append(query.limit)
        return try await deliveries(
            tenant,
            """
            WHERE tenant_id = $1 AND webhook_id = $2 AND ($3::text IS NULL OR status = $3)
                AND ($4::uuid IS NULL OR id < $4) ORDER BY id DESC LIMIT $5
            """, binds)
    }

    func attempts(tenant: TenantID, delivery: UUID) async throws -> [WebhookAttempt] {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(delivery)
        return try await PostgresErrors.translating {
            try await client.withScopedRead(
                .tenant(tenant),
                sql: """
                    SELECT delivery_id, tenant_id, number, ap_micros(attempted_at) AS attempted_at, status_code,
                        latency_ms, response_snippet, error
                    FROM webhook_attempts WHERE tenant_id = $1 AND delivery_id = $2 ORDER BY number
                    """,
                binds: binds, logger: logger
            ) { rows in
                var attempts: [WebhookAttempt] = []
                for try await row in rows {
                    let row = row.makeRandomAccess()
                    attempts.append(
                        WebhookAttempt(
                            deliveryID: try row["delivery_id"].decode(UUID.self),
                            tenantID: TenantID(try row["tenant_id"].decode(UUID.self)),
                            number: try row["number"].decode(Int.self),
                            attemptedAt: Timestamp(microsecondsSinceEpoch: try row["attempted_at"].decode(Int64.self)),
                            statusCode: try row["status_code"].decode(Int?.self),
                            latencyMilliseconds: try row["latency_ms"].decode(Int.self),
                            responseSnippet: try row["response_snippet"].decode(String?.self),
                            error: try row["error"].decode(String?.self)))
                }
                return attempts
            }
        }
    }

    func recordAttempt(_ attempt: WebhookAttempt, outcome: WebhookAttemptOutcome, now: Timestamp) async throws -> Bool {
        try await transaction(.tenant(attempt.tenantID)) { connection in
            guard
                let delivery = try await Self.lockedDelivery(
                    tenant: attempt.tenantID, id: attempt.deliveryID, on: connection, logger: logger),
                delivery.status == .pending
            else { return false }
            let number = delivery.attempts + 1
            let status: WebhookDeliveryStatus =
                switch outcome {
                case .delivered: .succeeded
                case .retrying: .pending
                case .dead: .dead
                }
            try await connection.guardedQuery(
                """
                INSERT INTO webhook_attempts (delivery_id, tenant_id, number, attempted_at, status_code, latency_ms,
                    response_snippet, error)
                VALUES (\(delivery.id), \(delivery.tenantID.rawValue), \(number),
                    ap_ts(\(attempt.attemptedAt.microsecondsSinceEpoch)), \(attempt.statusCode),
                    \(attempt.latencyMilliseconds), \(attempt.responseSnippet), \(attempt.error))
                """,
                logger: logger)
            try await connection.guardedQuery(
                """
                DELETE FROM webhook_attempts WHERE delivery_id = \(delivery.id)
                    AND number <= \(number - WebhookAttempt.keptPerDelivery)
                """,
                logger: logger)
            try await connection.guardedQuery(
                """
                UPDATE webhook_deliveries SET attempts = \(number), last_status_code = \(attempt.statusCode),
                    last_error = \(attempt.error), status = \(status.rawValue),
                    updated_at = ap_ts(\(now.microsecondsSinceEpoch))
                WHERE id = \(delivery.id)
                """,
                logger: logger)
            if outcome == .delivered, !delivery.isTest {
                try await connection.guardedQuery(
                    """
                    UPDATE webhooks SET consecutive_failures = 0
                    WHERE id = \(delivery.webhookID) AND consecutive_failures <> 0
                    """,
                    logger: logger)
            }
            return true
        }
    }

    func endDelivery(
        tenant: TenantID, id: UUID, status: WebhookDeliveryStatus, error: String?, now: Timestamp
    ) async throws -> Webhook? {
        try await transaction(.tenant(tenant)) { connection in
            guard
                let delivery = try await Self.lockedDelivery(tenant: tenant, id: id, on: connection, logger: logger),
                delivery.status == .pending
            else { return nil }
            try await connection.guardedQuery(
                """
                UPDATE webhook_deliveries SET status = \(status.rawValue), last_error = coalesce(\(error), last_error),
                    updated_at = ap_ts(\(now.microsecondsSinceEpoch))
                WHERE id = \(id)
                """,
                logger: logger)
            if status == .dead, !delivery.isTest {
                try await connection.guardedQuery(
                    "UPDATE webhooks SET consecutive_failures = consecutive_failures + 1 WHERE id = \(delivery.webhookID)",
                    logger: logger)
            }
            let rows = try await connection.guardedQuery(
                "SELECT \(unescaped: Self.webhookColumns) FROM webhooks WHERE id = \(delivery.webhookID)",
                logger: logger)
            for try await row in rows { return try Self.webhook(row.makeRandomAccess()) }
            return nil
        }
    }

    func replay(tenant: TenantID, id: UUID, run: NewRun, record: ChangeRecord) async throws -> WebhookDelivery {
        let delivery = try await transaction(.tenant(tenant)) { connection in
            guard var delivery = try await Self.lockedDelivery(tenant: tenant, id: id, on: connection, logger: logger)
            else { throw StoreError(.notFound, "No such delivery.") }
            guard delivery.status.isReplayable else { throw WebhookDecisions.replayRefusal(delivery.status) }
            delivery.status = .pending
            delivery.runID = run.id
            delivery.updatedAt = run.createdAt
            try await connection.guardedQuery(
                """
                UPDATE webhook_deliveries SET status = 'pending', run_id = \(run.id),
                    updated_at = ap_ts(\(run.createdAt.microsecondsSinceEpoch))
                WHERE id = \(id)
                """,
                logger: logger)
            var record = record
            record.runs.append(run)
            try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
            return delivery
        }
        wake()
        return delivery
    }
}
