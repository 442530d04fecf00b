import AgentplaneCore
import AgentplaneStore
import Foundation
import GRDB

/// Writes what a mutation records besides its state change, inside the mutation's transaction.
enum SQLiteChangeRecorder {
    /// Appends the record's events (to the audit entry's tenant) and its audit row.
    static func record(_ record: ChangeRecord, in db: Database) throws {
        _ = try SQLiteEventLog.append(record.events, tenant: record.audit.tenantID, in: db)
        try SQLiteAuditLogStore.insert(record.audit, in: db)
        for run in record.runs { try SQLiteRunQueue.enqueue(run, in: db) }
        if let completion = record.commandCompletion { try SQLiteCommandStore.complete(completion, in: db) }
    }
}

/// The audit log on SQLite.
struct SQLiteAuditLogStore: AuditLogStore {
    let pool: DatabasePool

    func append(_ entry: AuditEntry) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in try Self.insert(entry, in: db) }
        }
    }

    func list(tenant: TenantID?, query: AuditQuery) async throws -> [AuditEntry] {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                var sql = "SELECT * FROM audit_log WHERE 1 = 1"
                var arguments: StatementArguments = []
                if let tenant {
                    sql += " AND tenant_id = ?"
                    arguments += [tenant.description]
                }
                if let before = query.before {
                    sql += " AND id < ?"
                    arguments += [before]
                }
                if let operation = query.operation {
                    sql += " AND operation = ?"
                    arguments += [operation]
                }
                if let outcome = query.outcome {
                    sql += " AND outcome = ?"
                    arguments += [outcome.rawValue]
                }
                if let principal = query.principalID {
                    sql += " AND principal_id = ?"
                    arguments += [principal]
                }
                sql += " ORDER BY id DESC LIMIT ?"
                arguments += [query.limit]
                return try Row.fetchAll(try db.cachedStatement(sql: sql), arguments: arguments).map(Self.entry)
            }
        }
    }

    static func insert(_ entry: AuditEntry, in db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO audit_log (id, tenant_id, occurred_at, principal_id, key_prefix, operation, resource_type,
                    resource_id, request_id, client_address, outcome, status, details)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                entry.id.lowercasedString, entry.tenantID.description, entry.occurredAt.microsecondsSinceEpoch,
                entry.principalID, entry.keyPrefix, entry.operation, entry.resourceType, entry.resourceID,
                entry.requestID, entry.clientAddress, entry.outcome.rawValue, entry.status,
                entry.details.jsonText,
            ]
        )
    }

    static func entry(_ row: Row) throws -> AuditEntry {
        guard let id = UUID(canonical: row["id"]), let tenant = TenantID(uuidString: row["tenant_id"]),
            let outcome = AuditOutcome(rawValue: row["outcome"]),
            let details = JSONValue(parsing: row["details"] as String)
        else { throw StoreError(.corruptData, "A stored audit entry could not be decoded.") }
        return AuditEntry(
            id: id,
            tenantID: tenant,
            occurredAt: Timestamp(microsecondsSinceEpoch: row["occurred_at"]),
            principalID: row["principal_id"],
            keyPrefix: row["key_prefix"],
            operation: row["operation"],
            resourceType: row["resource_type"],
            resourceID: row["resource_id"],
            requestID: row["request_id"],
            clientAddress: row["client_address"],
            outcome: outcome,
            status: row["status"],
            details: details
        )
    }
}
