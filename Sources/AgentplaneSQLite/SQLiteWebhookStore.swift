import AgentplaneCore
import AgentplaneStore
import Foundation
import GRDB

/// Webhooks, their deliveries and attempts on SQLite.
struct SQLiteWebhookStore: WebhookStore {
    let pool: DatabasePool

    func create(_ webhook: Webhook, record: ChangeRecord) async throws {
        try await write { db in
            try db.cachedStatement(
                sql: "INSERT INTO webhooks (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ).execute(arguments: Self.arguments(webhook))
            try SQLiteChangeRecorder.record(record, in: db)
        }
    }

    func find(tenant: TenantID, id: UUID) async throws -> Webhook? {
        try await read { db in
            try Row.fetchOne(
                try db.cachedStatement(sql: "SELECT \(Self.columns) FROM webhooks WHERE tenant_id = ? AND id = ?"),
                arguments: [tenant.description, id.lowercasedString]
            ).map(Self.webhook)
        }
    }

    func list(tenant: TenantID, after: UUID?, limit: Int) async throws -> [Webhook] {
        try await read { db in
            try Row.fetchAll(
                try db.cachedStatement(
                    sql: "SELECT \(Self.columns) FROM webhooks WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?"),
                arguments: [tenant.description, after?.lowercasedString ?? "", limit]
            ).map(Self.webhook)
        }
    }

    func update(_ webhook: Webhook, expectedVersion: Int64, record: ChangeRecord) async throws {
        try StoreError.checkVersion(webhook.version, after: expectedVersion)
        try await write { db in
            try db.cachedStatement(
                sql: """
                    UPDATE webhooks SET url = ?, event_types = ?, description = ?, enabled = ?, format = ?,
                        secret_sealed = ?, previous_secret_sealed = ?, previous_secret_expires_at = ?,
                        consecutive_failures = ?, disabled_reason = ?, version = ?, updated_at = ?
                    WHERE tenant_id = ? AND id = ? AND version = ?
                    """
            ).execute(arguments: [
                webhook.url, Self.json(webhook.filter.types), webhook.description, webhook.enabled,
                webhook.format.rawValue, webhook.sealedSecret, webhook.sealedPreviousSecret,
                webhook.previousSecretExpiresAt?.microsecondsSinceEpoch, webhook.consecutiveFailures,
                webhook.disabledReason, webhook.version, webhook.updatedAt.microsecondsSinceEpoch,
                webhook.tenantID.description, webhook.id.lowercasedString, expectedVersion,
            ])
            guard db.changesCount == 1 else {
                let exists = try SQLiteRows.exists(db, table: "webhooks", id: webhook.id, tenant: webhook.tenantID)
                throw StoreError.conditionalWriteMissed("webhook", rowExists: exists)
            }
            try SQLiteChangeRecorder.record(record, in: db)
        }
    }

    func delete(tenant: TenantID, id: UUID, record: ChangeRecord) async throws {
        try await write { db in
            try db.cachedStatement(sql: "DELETE FROM webhooks WHERE tenant_id = ? AND id = ?").execute(
                arguments: [tenant.description, id.lowercasedString])
            guard db.changesCount == 1 else { throw StoreError(.notFound, "No such webhook.") }
            try SQLiteChangeRecorder.record(record, in: db)
        }
    }

    func tenantsWithEnabledWebhooks() async throws -> [TenantID] {
        try await read { db in
            try String.fetchAll(
                try db.cachedStatement(
                    sql: "SELECT DISTINCT tenant_id FROM webhooks WHERE enabled = 1 ORDER BY tenant_id")
            ).compactMap(TenantID.init(uuidString:))
        }
    }

    func enabled(tenant: TenantID) async throws -> [Webhook] {
        try await read { db in
            try Row.fetchAll(
                try db.cachedStatement(
                    sql: "SELECT \(Self.columns) FROM webhooks WHERE tenant_id = ? AND enabled = 1 ORDER BY id"),
                arguments: [tenant.description]
            ).map(Self.webhook)
        }
    }

    func dispatch(_ deliveries: [(WebhookDelivery, NewRun)], cursor: String, position: String) async throws -> Int {
        try await write { db in
            var inserted = 0
            for (delivery, run) in deliveries where try Self.insert(delivery, in: db) {
                _ = try SQLiteRunQueue.enqueue(run, in: db)
                inserted += 1
            }
            try db.cachedStatement(
                sql: """
                    INSERT INTO scheduler_cursors (name, position) VALUES (?, ?)
                    ON CONFLICT (name) DO UPDATE SET position = excluded.position
                    """
            ).execute(arguments: [cursor, position])
            return inserted
        }
    }

    func insertTestDelivery(_ delivery: WebhookDelivery) async throws {
        try await write { db in _ = try Self.insert(delivery, in: db) }
    }

    func delivery(tenant: TenantID, id: UUID) async throws -> WebhookDelivery? {
        try await read { db in
            try Self.delivery(tenant: tenant, id: id, in: db)
        }
    }

    func deliveries(tenant: TenantID, webhook: UUID, query: WebhookDeliveryQuery) async throws -> [WebhookDelivery] {
        try await read { db in
            var sql = "SELECT \(Self.deliveryColumns) FROM webhook_deliveries WHERE tenant_id = ? AND webhook_id = ?"
            var arguments: StatementArguments = [tenant.description, webhook.lowercasedString]
            if let status = query.status {
                sql += " AND status = ?"
                arguments += [status.rawValue]
            }
            if let before = query.before {
                sql += " AND id < ?"
                arguments += [before.lowercasedString]
            }
            sql += " ORDER BY id DESC LIMIT ?"
            arguments += [query.limit]
            return try Row.fetchAll(try db.cachedStatement(sql: sql), arguments: arguments).map(Self.delivery)
        }
    }

    func attempts(tenant: TenantID, delivery: UUID) async throws -> [WebhookAttempt] {
        try await read { db in
            try Row.fetchAll(
                try db.cachedStatement(
                    sql: """
                        SELECT delivery_id, tenant_id, number, attempted_at, status_code, latency_ms, response_snippet, error
                        FROM webhook_attempts WHERE tenant_id = ? AND delivery_id = ? ORDER BY number
                        """),
                arguments: [tenant.description, delivery.lowercasedString]
            ).map(Self.attempt)
        }
    }

    func recordAttempt(_ attempt: WebhookAttempt, outcome: WebhookAttemptOutcome, now: Timestamp) async throws -> Bool {
        try await write { db in
            guard let delivery = try Self.delivery(tenant: attempt.tenantID, id: attempt.deliveryID, in: db),
                delivery.status == .pending
            else { return false }
            let number = delivery.attempts + 1
            try db.cachedStatement(
                sql: """
                    INSERT INTO webhook_attempts (delivery_id, tenant_id, number, attempted_at, status_code, latency_ms,
                        response_snippet, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                delivery.id.lowercasedString, delivery.tenantID.description, number,
                attempt.attemptedAt.microsecondsSinceEpoch, attempt.statusCode, attempt.latencyMilliseconds,
                attempt.responseSnippet, attempt.error,
            ])
            try db.cachedStatement(sql: "DELETE FROM webhook_attempts WHERE delivery_id = ? AND number <= ?")
                .execute(arguments: [delivery.id.lowercasedString, number - WebhookAttempt.keptPerDelivery])
            let status: WebhookDeliveryStatus =
                switch outcome {
                case .delivered: .succeeded
                case .retrying: .pending
                case .dead: .dead
                }
            try db.cachedStatement(
                sql: """
                    UPDATE webhook_deliveries SET attempts = ?, last_status_code = ?, last_error = ?, status = ?,
                        updated_at = ? WHERE id = ?
                    """
            ).execute(arguments: [
                number, attempt.statusCode, attempt.error, status.rawValue, now.microsecondsSinceEpoch,
                delivery.id.lowercasedString,
            ])
            if outcome == .delivered, !delivery.isTest {
                try db.cachedStatement(
                    sql: "UPDATE webhooks SET consecutive_failures = 0 WHERE id = ? AND consecutive_failures <> 0"
                ).execute(arguments: [delivery.webhookID.lowercasedString])
            }
            return true
        }
    }

    func endDelivery(
        tenant: TenantID, id: UUID, status: WebhookDeliveryStatus, error: String?, now: Timestamp
    ) async throws -> Webhook? {
        try await write { db in
            guard let delivery = try Self.delivery(tenant: tenant, id: id, in: db), delivery.status == .pending
            else { return nil }
            try db.cachedStatement(
                sql: """
                    UPDATE webhook_deliveries SET status = ?, last_error = coalesce(?, last_error), updated_at = ?
                    WHERE id = ?
                    """
            ).execute(arguments: [status.rawValue, error, now.microsecondsSinceEpoch, id.lowercasedString])
            if status == .dead, !delivery.isTest {
                try db.cachedStatement(
                    sql: "UPDATE webhooks SET consecutive_failures = consecutive_failures + 1 WHERE id = ?"
                ).execute(arguments: [delivery.webhookID.lowercasedString])
            }
            return try Row.fetchOne(
                try db.cachedStatement(sql: "SELECT \(Self.columns) FROM webhooks WHERE tenant_id = ? AND id = ?"),
                arguments: [tenant.description, delivery.webhookID.lowercasedString]
            ).map(Self.webhook)
        }
    }

    func replay(tenant: TenantID, id: UUID, run: NewRun, record: ChangeRecord) async throws -> WebhookDelivery {
        try await write { db in
            guard var delivery = try Self.delivery(tenant: tenant, id: id, in: db) else {
                throw StoreError(.notFound, "No such delivery.")
            }
            guard delivery.status.isReplayable else { throw WebhookDecisions.replayRefusal(delivery.status) }
            delivery.status = .pending
            delivery.runID = run.id
            delivery.updatedAt = run.createdAt
            try db.cachedStatement(
                sql: "UPDATE webhook_deliveries SET status = 'pending', run_id = ?, updated_at = ? WHERE id = ?"
            ).execute(arguments: [
                run.id.lowercasedString, run.createdAt.microsecondsSinceEpoch, id.lowercasedString,
            ])
            var record = record
            record.runs.append(run)
            try SQLiteChangeRecorder.record(record, in: db)
            return delivery
        }
    }

    // MARK: Rows

    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await SQLiteErrors.translating { try await pool.read(body) }
    }

    private func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await SQLiteErrors.translating { try await pool.write(body) }
    }

    /// Inserts a delivery unless the webhook already has one for the event; answers whether it did.
    static func insert(_ delivery: WebhookDelivery, in db: Database) throws -> Bool {
        try db.cachedStatement(
            sql: """
                INSERT INTO webhook_deliveries (\(deliveryColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (webhook_id, event_id) DO NOTHING
                """
        ).execute(arguments: [
            delivery.id.lowercasedString, delivery.tenantID.description, delivery.webhookID.lowercasedString,
            delivery.eventID, delivery.eventType, delivery.payload, delivery.status.rawValue, delivery.attempts,
            delivery.lastStatusCode, delivery.lastError, delivery.runID?.lowercasedString, delivery.isTest,
            delivery.createdAt.microsecondsSinceEpoch, delivery.updatedAt.microsecondsSinceEpoch,
        ])
        return db.changesCount == 1
    }

    static func delivery(tenant: TenantID, id: UUID, in db: Database) throws -> WebhookDelivery? {
        try Row.fetchOne(
            try db.cachedStatement(
                sql: "SELECT \(deliveryColumns) FROM webhook_deliveries WHERE tenant_id = ? AND id = ?"),
            arguments: [tenant.description, id.lowercasedString]
        ).map(Self.delivery)
    }

    static let columns = """
        id, tenant_id, url, event_types, description, enabled, format, secret_sealed, previous_secret_sealed,
        previous_secret_expires_at, consecutive_failures, disabled_reason, version, created_at, updated_at
        """

    static let deliveryColumns = """
        id, tenant_id, webhook_id, event_id, event_type, payload, status, attempts, last_status_code, last_error,
        run_id, is_test, created_at, updated_at
        """

    static func json(_ strings: [String]) -> String { JSONValue.array(strings.map(JSONValue.string)).jsonText }

    static func arguments(_ webhook: Webhook) -> StatementArguments {
        [
            webhook.id.lowercasedString, webhook.tenantID.description, webhook.url, json(webhook.filter.types),
            webhook.description, webhook.enabled, webhook.format.rawValue, webhook.sealedSecret,
            webhook.sealedPreviousSecret, webhook.previousSecretExpiresAt?.microsecondsSinceEpoch,
            webhook.consecutiveFailures, webhook.disabledReason, webhook.version,
            webhook.createdAt.microsecondsSinceEpoch, webhook.updatedAt.microsecondsSinceEpoch,
        ]
    }

    static func webhook(_ row: Row) throws -> Webhook {
        guard let id = UUID(canonical: row[0]), let tenant = TenantID(uuidString: row[1]),
            let types = JSONValue(parsing: row[3] as String)?.arrayValue,
            let filter = try? EventFilter(types: types.compactMap(\.stringValue), subject: nil),
            let format = EventFormat(rawValue: row[6])
        else { throw StoreError(.corruptData, "A stored webhook could not be decoded.") }
        let expires: Int64? = row[9]
        return Webhook(
            id: id, tenantID: tenant, url: row[2], filter: filter, description: row[4], enabled: row[5],
            format: format, sealedSecret: row[7], sealedPreviousSecret: row[8],
            previousSecretExpiresAt: expires.map(Timestamp.init(microsecondsSinceEpoch:)), consecutiveFailures: row[10],
            disabledReason: row[11], version: row[12], createdAt: Timestamp(microsecondsSinceEpoch: row[13]),
            updatedAt: Timestamp(microsecondsSinceEpoch: row[14]))
    }

    static func delivery(_ row: Row) throws -> WebhookDelivery {
        guard let id = UUID(canonical: row[0]), let tenant = TenantID(uuidString: row[1]),
            let webhook = UUID(canonical: row[2]), let status = WebhookDeliveryStatus(rawValue: row[6])
        else { throw StoreError(.corruptData, "A stored webhook delivery could not be decoded.") }
        let run: String? = row[10]
        return WebhookDelivery(
            id: id, tenantID: tenant, webhookID: webhook, eventID: row[3], eventType: row[4], payload: row[5],
            status: status, attempts: row[7], lastStatusCode: row[8], lastError: row[9],
            runID: run.flatMap(UUID.init(canonical:)), isTest: row[11],
            createdAt: Timestamp(microsecondsSinceEpoch: row[12]), updatedAt: Timestamp(microsecondsSinceEpoch: row[13])
        )
    }

    static func attempt(_ row: Row) throws -> WebhookAttempt {
        guard let delivery = UUID(canonical: row[0]), let tenant = TenantID(uuidString: row[1]) else {
            throw StoreError(.corruptData, "A stored webhook attempt could not be decoded.")
        }
        return WebhookAttempt(
            deliveryID: delivery, tenantID: tenant, number: row[2],
            attemptedAt: Timestamp(microsecondsSinceEpoch: row[3]), statusCode: row[4], latencyMilliseconds: row[5],
            responseSnippet: row[6], error: row[7])
    }
}
