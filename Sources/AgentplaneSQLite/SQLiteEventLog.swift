import AgentplaneCore
import AgentplaneStore
import Foundation
import GRDB

/// The event log on SQLite: the single writer assigns a per-tenant counter (the position's fine half,
/// the coarse half is 0), so commit order is position order without any further care.
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
            // A position this log never hands out (coarse half set) is after every event it holds.
            guard query.after.major == 0 else { return [] }
            let after = Int64(clamping: query.after.minor)
            return try await pool.read { db in
                var sql = "SELECT * FROM events WHERE tenant_id = ? AND sequence > ?"
                var arguments: StatementArguments = [tenant.description, after]
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
                return try Row.fetchAll(try db.cachedStatement(sql: sql), arguments: arguments).map {
                    try Self.event(from: $0, tenant: tenant)
                }
            }
        }
    }

    func latestPosition(tenant: TenantID) async throws -> EventPosition {
        try await SQLiteErrors.translating {
            let last = try await pool.read { db in
                try Int64.fetchOne(
                    try db.cachedStatement(sql: "SELECT last_sequence FROM event_sequences WHERE tenant_id = ?"),
                    arguments: [tenant.description]
                ) ?? 0
            }
            return EventPosition(major: 0, minor: UInt64(last))
        }
    }

    func purge(recordedBefore cutoff: Timestamp, limit: Int) async throws -> Int {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: """
                        DELETE FROM events WHERE (tenant_id, sequence) IN (
                            SELECT tenant_id, sequence FROM events INDEXED BY events_recorded_at
                            WHERE recorded_at < ? LIMIT ?)
                        """
                ).execute(arguments: [cutoff.microsecondsSinceEpoch, limit])
                return db.changesCount
            }
        }
    }

    /// Appends inside the caller's write transaction: every state change calls this before it commits.
    static func append(_ events: [NewEvent], tenant: TenantID, in db: Database) throws -> [Event] {
        guard !events.isEmpty else { return [] }
        let last = try Int64.fetchOne(
            try db.cachedStatement(
                sql: """
                    INSERT INTO event_sequences (tenant_id, last_sequence) VALUES (?, ?)
                    ON CONFLICT (tenant_id) DO UPDATE SET last_sequence = last_sequence + excluded.last_sequence
                    RETURNING last_sequence
                    """),
            arguments: [tenant.description, events.count]
        )!
        let recordedAt = Timestamp.now().microsecondsSinceEpoch
        return try NewEvent.stored(events, tenant: tenant, lastCounter: UInt64(last)).map { stored in
            try db.cachedStatement(
                sql: """
                    INSERT INTO events (tenant_id, sequence, id, source, type, subject, time, data_content_type, data,
                        correlation_id, causation_id, request_id, user_id, recorded_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(
                arguments: [
                    tenant.description, Int64(stored.position.minor), stored.id, stored.source, stored.type,
                    stored.subject,
                    stored.time.microsecondsSinceEpoch, stored.dataContentType,
                    stored.data.jsonText,
                    stored.context.correlationID, stored.context.causationID, stored.context.requestID,
                    stored.context.userID, recordedAt,
                ]
            )
            return stored
        }
    }

    /// An event as read, its payload kept as the stored text. A TEXT column holds whatever was written
    /// to it, so the text is checked to be JSON (a syntax check, no decoding) before a reader may pass it
    /// through.
    static func event(from row: Row, tenant: TenantID) throws -> Event {
        let dataJSON: String = row["data"]
        guard JSONSyntax.firstError(in: Array(dataJSON.utf8)) == nil else {
            throw StoreError(.corruptData, "A stored event could not be decoded.")
        }
        let sequence: Int64 = row["sequence"]
        return Event(
            tenantID: tenant,
            position: EventPosition(major: 0, minor: UInt64(sequence)),
            id: row["id"],
            source: row["source"],
            type: row["type"],
            subject: row["subject"],
            time: Timestamp(microsecondsSinceEpoch: row["time"]),
            dataContentType: row["data_content_type"],
            dataJSON: dataJSON,
            context: EventContext(
                correlationID: row["correlation_id"],
                causationID: row["causation_id"],
                requestID: row["request_id"],
                userID: row["user_id"]
            )
        )
    }
}
