import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import PostgresNIO

/// Writes what a mutation records besides its state change, inside the mutation's transaction.
enum PostgresChangeRecorder {
    /// Inserts the audit row, then appends the events (last: the per-tenant counter lock is then held
    /// only until the imminent commit).
    static func record(_ record: ChangeRecord, on connection: PostgresConnection, logger: Logger) async throws {
        try await PostgresAuditLogStore.insert(record.audit, on: connection, logger: logger)
        _ = try await PostgresEventLog.append(
            record.events, tenant: record.audit.tenantID, on: connection, logger: logger)
    }
}

/// The audit log on PostgreSQL.
struct PostgresAuditLogStore: AuditLogStore {
    let client: PostgresClient
    let logger: Logger

    func append(_ entry: AuditEntry) async throws {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(entry.tenantID), logger: logger) { connection in
                try await Self.insert(entry, on: connection, logger: logger)
            }
        }
    }

    func list(tenant: TenantID?, query: AuditQuery) async throws -> [AuditEntry] {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(tenant.map(RowScope.tenant) ?? .platformWide, logger: logger) {
                connection in
                let before = query.before.flatMap(UUID.init(uuidString:))
                let rows = try await connection.query(
                    """
                    SELECT id, tenant_id, ap_micros(occurred_at) AS occurred_at, principal_id, key_prefix, operation,
                        resource_type, resource_id, request_id, client_address, outcome, status, details::text AS details
                    FROM audit_log
                    WHERE (\(tenant?.rawValue)::uuid IS NULL OR tenant_id = \(tenant?.rawValue))
                        AND (\(before)::uuid IS NULL OR id < \(before))
                        AND (\(query.operation)::text IS NULL OR operation = \(query.operation))
                        AND (\(query.outcome?.rawValue)::text IS NULL OR outcome = \(query.outcome?.rawValue))
                        AND (\(query.principalID)::text IS NULL OR principal_id = \(query.principalID))
                    ORDER BY id DESC
                    LIMIT \(query.limit)
                    """,
                    logger: logger
                )
                var entries: [AuditEntry] = []
                for try await row in rows { entries.append(try Self.entry(row.makeRandomAccess())) }
                return entries
            }
        }
    }

    static func insert(_ entry: AuditEntry, on connection: PostgresConnection, logger: Logger) async throws {
        let details = String(decoding: try JSONEncoder().encode(entry.details), as: UTF8.self)
        try await connection.query(
            """
            INSERT INTO audit_log (id, tenant_id, occurred_at, principal_id, key_prefix, operation, resource_type,
                resource_id, request_id, client_address, outcome, status, details)
            VALUES (\(entry.id), \(entry.tenantID.rawValue), ap_ts(\(entry.occurredAt.microsecondsSinceEpoch)),
                \(entry.principalID), \(entry.keyPrefix), \(entry.operation), \(entry.resourceType), \(entry.resourceID),
                \(entry.requestID), \(entry.clientAddress), \(entry.outcome.rawValue), \(entry.status), \(details)::jsonb)
            """,
            logger: logger
        )
    }

    static func entry(_ row: PostgresRandomAccessRow) throws -> AuditEntry {
        guard let outcome = AuditOutcome(rawValue: try row["outcome"].decode(String.self)),
            let details = JSONValue(parsing: try row["details"].decode(String.self))
        else { throw StoreError(.corruptData, "A stored audit entry could not be decoded.") }
        return AuditEntry(
            id: try row["id"].decode(UUID.self),
            tenantID: TenantID(try row["tenant_id"].decode(UUID.self)),
            occurredAt: Timestamp(microsecondsSinceEpoch: try row["occurred_at"].decode(Int64.self)),
            principalID: try row["principal_id"].decode(String.self),
            keyPrefix: try row["key_prefix"].decode(String?.self),
            operation: try row["operation"].decode(String.self),
            resourceType: try row["resource_type"].decode(String.self),
            resourceID: try row["resource_id"].decode(String?.self),
            requestID: try row["request_id"].decode(String?.self),
            clientAddress: try row["client_address"].decode(String?.self),
            outcome: outcome,
            status: try row["status"].decode(Int.self),
            details: details
        )
    }
}
