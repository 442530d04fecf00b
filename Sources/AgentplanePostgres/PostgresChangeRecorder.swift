import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import PostgresNIO

/// Writes what a mutation records besides its state change, inside the mutation's transaction.
enum PostgresChangeRecorder {
    /// Inserts the audit row and appends the events, in one statement.
    static func record(_ record: ChangeRecord, on connection: PostgresConnection, logger: Logger) async throws {
        try await Self.record([record], on: connection, logger: logger)
    }

    /// Inserts the audit rows and appends the events of several steps of one change, in order, in one
    /// statement per tenant (one, in practice).
    static func record(_ records: [ChangeRecord], on connection: PostgresConnection, logger: Logger) async throws {
        var start = records.startIndex
        while start < records.endIndex {
            let tenant = records[start].audit.tenantID
            let end = records[start...].firstIndex { $0.audit.tenantID != tenant } ?? records.endIndex
            _ = try await PostgresEventLog.append(
                records[start..<end].flatMap(\.events), tenant: tenant, auditing: records[start..<end].map(\.audit),
                on: connection, logger: logger)
            start = end
        }
        // The work the change causes. (Workers on this node find it by their poll, within a second: the
        // store's own enqueue wakes them at once, a change's cannot until it has committed.)
        let runs = records.flatMap(\.runs)
        if !runs.isEmpty { try await PostgresRunQueue.enqueueAll(runs, on: connection, logger: logger) }
        for completion in records.compactMap(\.commandCompletion) {
            try await PostgresCommandStore.complete(completion, on: connection, logger: logger)
        }
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
                let rows = try await connection.guardedQuery(
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
        _ = try await PostgresEventLog.append(
            [], tenant: entry.tenantID, auditing: [entry], on: connection, logger: logger)
    }

    /// The columns `values(_:into:)` fills, in order.
    static let insertColumns = """
        id, tenant_id, occurred_at, principal_id, key_prefix, operation, resource_type, resource_id, request_id,
        client_address, outcome, status, details
        """

    /// The `VALUES` rows of `entries`, their parameters appended to `binds`.
    static func values(_ entries: [AuditEntry], into binds: inout PostgresBindings) -> String {
        entries.map { entry in
            let base = binds.count
            binds.append(entry.id)
            binds.append(entry.tenantID.rawValue)
            binds.append(entry.occurredAt.microsecondsSinceEpoch)
            binds.append(entry.principalID)
            binds.append(entry.keyPrefix)
            binds.append(entry.operation)
            binds.append(entry.resourceType)
            binds.append(entry.resourceID)
            binds.append(entry.requestID)
            binds.append(entry.clientAddress)
            binds.append(entry.outcome.rawValue)
            binds.append(entry.status)
            binds.append(entry.details.jsonText)
            let p = (1...13).map { "$\(base + $0)" }
            return "(\(p[0]), \(p[1]), ap_ts(\(p[2])), \(p[3]), \(p[4]), \(p[5]), \(p[6]), \(p[7]), \(p[8]), \(p[9]), "
                + "\(p[10]), \(p[11]), \(p[12])::jsonb)"
        }.joined(separator: ", ")
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
