import AgentplaneCore
import AgentplaneStore
import Foundation
import GRDB

/// The event log on SQLite: the single writer assigns sequences, so commit order is sequence order.
struct SQLiteEventLog: EventLog {
    let pool: DatabasePool

    func append(_ events: [NewEvent], tenant: TenantID) async throws -> [Event] {
        try await SQLiteErrors.translating {
            try await pool.write { db in try Self.append(events, tenant: tenant, in: db) }
        }
    }

    func publish(_ record: ChangeRecord) async throws -> [Event] {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try SQLiteAuditLogStore.insert(record.audit, in: db)
                return try Self.append(record.events, tenant: record.audit.tenantID, in: db)
            }
        }
    }

    func list(tenant: TenantID, query: EventQuery) async throws -> [Event] {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                var sql = "SELECT * FROM events WHERE tenant_id = ? AND sequence > ?"
                var arguments: StatementArguments = [tenant.description, query.after]
                if let type = query.type {
                    sql += " AND type = ?"
                    arguments += [type]
                }
                if let subject = query.subject {
                    sql += " AND subject = ?"
                    arguments += [subject]
                }
                sql += " ORDER BY sequence LIMIT ?"
                arguments += [query.limit]
                return try Row.fetchAll(db, sql: sql, arguments: arguments).map {
                    try Self.event(from: $0, tenant: tenant)
                }
            }
        }
    }

    func latestSequence(tenant: TenantID) async throws -> Int64 {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Int64.fetchOne(
                    db,
                    sql: "SELECT last_sequence FROM event_sequences WHERE tenant_id = ?",
                    arguments: [tenant.description]
                ) ?? 0
            }
        }
    }

    /// Appends inside the caller's write transaction: every state change calls this before it commits.
    static func append(_ events: [NewEvent], tenant: TenantID, in db: Database) throws -> [Event] {
        guard !events.isEmpty else { return [] }
        let last = try Int64.fetchOne(
            db,
            sql: """
                INSERT INTO event_sequences (tenant_id, last_sequence) VALUES (?, ?)
                ON CONFLICT (tenant_id) DO UPDATE SET last_sequence = last_sequence + excluded.last_sequence
                RETURNING last_sequence
                """,
            arguments: [tenant.description, events.count]
        )!
        let recordedAt = Timestamp.now().microsecondsSinceEpoch
        let encoder = JSONEncoder()
        return try NewEvent.stored(events, tenant: tenant, lastSequence: last).map { stored in
            try db.execute(
                sql: """
                    INSERT INTO events (tenant_id, sequence, id, source, type, subject, time, data_content_type, data,
                        correlation_id, causation_id, request_id, user_id, recorded_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    tenant.description, stored.sequence, stored.id, stored.source, stored.type, stored.subject,
                    stored.time.microsecondsSinceEpoch, stored.dataContentType,
                    String(decoding: try encoder.encode(stored.data), as: UTF8.self),
                    stored.context.correlationID, stored.context.causationID, stored.context.requestID,
                    stored.context.userID, recordedAt,
                ]
            )
            return stored
        }
    }

    static func event(from row: Row, tenant: TenantID) throws -> Event {
        let dataText: String = row["data"]
        guard let data = JSONValue(parsing: dataText) else {
            throw StoreError(.corruptData, "A stored event could not be decoded.")
        }
        return Event(
            tenantID: tenant,
            sequence: row["sequence"],
            id: row["id"],
            source: row["source"],
            type: row["type"],
            subject: row["subject"],
            time: Timestamp(microsecondsSinceEpoch: row["time"]),
            dataContentType: row["data_content_type"],
            data: data,
            context: EventContext(
                correlationID: row["correlation_id"],
                causationID: row["causation_id"],
                requestID: row["request_id"],
                userID: row["user_id"]
            )
        )
    }
}
