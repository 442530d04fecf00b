import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import PostgresNIO

/// The event log on PostgreSQL, without a lock at write time.
///
/// An event's position is its writing transaction's id (`pg_current_xact_id()`, assigned by the server)
/// and an ordinal from a sequence (increasing within the transaction; `nextval` never blocks). Readers
/// are served only events of transactions older than the oldest one still running
/// (`pg_snapshot_xmin(pg_current_snapshot())`): every transaction that may still commit has a larger
/// id than anything served, so a reader that saw position P never later sees an event before P appear.
/// Concurrent appenders of one tenant share no row and never wait for each other.
struct PostgresEventLog: EventLog {
    let client: PostgresClient
    let logger: Logger

    /// How long a reader whose page came up short waits, re-reading, while committed matching events of
    /// its tenant are held back by an older transaction still running: 1, 2, 4 … ms, then every 100 ms,
    /// for 10 s at most. Such a hold-up normally ends within a millisecond (the older transactions
    /// commit), so a client reads its own writes; while a long transaction runs anywhere on the server
    /// (a migration, a bulk load, an open `BEGIN` in psql) a tail read answers when it ends, or after
    /// 10 s with what it may serve, like a long poll.
    static let horizonWaits: [Duration] = {
        var waits: [Duration] = (0..<7).map { .milliseconds(1 << $0) }
        while waits.reduce(.zero, +) < .seconds(10) { waits.append(.milliseconds(100)) }
        return waits
    }()

    func append(_ events: [NewEvent], tenant: TenantID) async throws -> [Event] {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(tenant), logger: logger) { connection in
                try await Self.append(events, tenant: tenant, on: connection, logger: logger)
            }
        }
    }

    func publish(_ record: ChangeRecord) async throws -> [Event] {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(record.audit.tenantID), logger: logger) { connection in
                try await PostgresAuditLogStore.insert(record.audit, on: connection, logger: logger)
                return try await Self.append(
                    record.events, tenant: record.audit.tenantID, on: connection, logger: logger)
            }
        }
    }

    func list(tenant: TenantID, query: EventQuery) async throws -> [Event] {
        try await PostgresErrors.translating {
            var page = try await listOnce(tenant: tenant, query: query)
            for wait in Self.horizonWaits where page.events.count < query.limit && page.heldBack {
                try await Task.sleep(for: wait)
                page = try await listOnce(tenant: tenant, query: query)
            }
            return page.events
        }
    }

    /// One read: the servable page, and whether committed matching events wait behind the horizon.
    private func listOnce(tenant: TenantID, query: EventQuery) async throws -> (events: [Event], heldBack: Bool) {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(String(query.after.major))
        binds.append(Int64(clamping: query.after.minor))
        binds.append(query.type)
        binds.append(query.subject)
        binds.append(query.limit)
        let matching = """
            e.tenant_id = $1 AND (e.txid, e.ordinal) > ($2::text::xid8, $3)
                AND ($4::text IS NULL OR e.type = $4) AND ($5::text IS NULL OR e.subject = $5)
            """
        // The horizon is read once, from the statement's own snapshot, so the page and the held-back flag
        // agree with what this statement sees. One row at least: the flag, with the page's columns null
        // when the page is empty.
        let sql = """
            WITH horizon AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
            SELECT p.*, h.held_back FROM (
                SELECT EXISTS (
                    SELECT 1 FROM events e, horizon WHERE \(matching) AND e.txid >= horizon.xmin
                ) AS held_back
            ) h LEFT JOIN LATERAL (
                SELECT e.txid::text AS txid, e.ordinal, e.id, e.source, e.type, e.subject,
                    ap_micros(e.time) AS time, e.data_content_type, e.data::text AS data, e.correlation_id,
                    e.causation_id, e.request_id, e.user_id
                FROM events e, horizon WHERE \(matching) AND e.txid < horizon.xmin
                ORDER BY e.txid, e.ordinal LIMIT $6
            ) p ON true
            """
        return try await client.withScopedRead(.tenant(tenant), sql: sql, binds: binds, logger: logger) { rows in
            var events: [Event] = []
            var heldBack = false
            for try await row in rows {
                let row = row.makeRandomAccess()
                heldBack = try row["held_back"].decode(Bool.self)
                if try row["id"].decode(String?.self) != nil {
                    events.append(try Self.event(from: row, tenant: tenant))
                }
            }
            // The nested loop keeps the page's order; sorting again costs nothing on an ordered page.
            events.sort { $0.position < $1.position }
            return (events, heldBack)
        }
    }

    func latestPosition(tenant: TenantID) async throws -> EventPosition {
        try await PostgresErrors.translating {
            var latest = try await latestOnce(tenant: tenant)
            for wait in Self.horizonWaits where latest.heldBack {
                try await Task.sleep(for: wait)
                latest = try await latestOnce(tenant: tenant)
            }
            return latest.position
        }
    }

    func purge(recordedBefore cutoff: Timestamp, limit: Int) async throws -> Int {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                let rows = try await connection.guardedQuery(
                    """
                    DELETE FROM events WHERE ctid IN (
                        SELECT ctid FROM events WHERE recorded_at < ap_ts(\(cutoff.microsecondsSinceEpoch)) LIMIT \(limit))
                    RETURNING 1
                    """,
                    logger: logger)
                var count = 0
                for try await _ in rows { count += 1 }
                return count
            }
        }
    }

    /// The latest servable position, and whether committed events wait behind the horizon.
    private func latestOnce(tenant: TenantID) async throws -> (position: EventPosition, heldBack: Bool) {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        let sql = """
            WITH horizon AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
            SELECT p.*, h.held_back FROM (
                SELECT EXISTS (
                    SELECT 1 FROM events e, horizon WHERE e.tenant_id = $1 AND e.txid >= horizon.xmin
                ) AS held_back
            ) h LEFT JOIN LATERAL (
                SELECT e.txid::text AS txid, e.ordinal FROM events e, horizon
                WHERE e.tenant_id = $1 AND e.txid < horizon.xmin
                ORDER BY e.txid DESC, e.ordinal DESC LIMIT 1
            ) p ON true
            """
        return try await client.withScopedRead(.tenant(tenant), sql: sql, binds: binds, logger: logger) { rows in
            for try await row in rows {
                let row = row.makeRandomAccess()
                let heldBack = try row["held_back"].decode(Bool.self)
                guard try row["txid"].decode(String?.self) != nil else { return (.start, heldBack) }
                return (try Self.position(row), heldBack)
            }
            return (.start, false)
        }
    }

    /// Appends inside the caller's transaction (one statement; no lock another appender waits for).
    /// `audits` are inserted by the same statement (a data-modifying `WITH`), so a change records its
    /// audit rows and its events in one round trip.
    static func append(
        _ events: [NewEvent],
        tenant: TenantID,
        auditing audits: [AuditEntry] = [],
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> [Event] {
        var binds = PostgresBindings()
        let auditValues = PostgresAuditLogStore.values(audits, into: &binds)
        if !events.isEmpty { PostgresEventAppends.current?.insert(tenant) }
        guard !events.isEmpty else {
            if !audits.isEmpty {
                try await connection.guardedQuery(
                    PostgresQuery(
                        unsafeSQL:
                            "INSERT INTO audit_log (\(PostgresAuditLogStore.insertColumns)) VALUES \(auditValues)",
                        binds: binds),
                    logger: logger)
            }
            return []
        }
        var values: [String] = []
        for event in events {
            let base = binds.count
            binds.append(tenant.rawValue)
            binds.append(event.id)
            binds.append(event.resolvedSource(for: tenant))
            binds.append(event.type)
            binds.append(event.subject)
            binds.append(event.time.microsecondsSinceEpoch)
            binds.append(event.data.jsonText)
            binds.append(event.context.correlationID)
            binds.append(event.context.causationID)
            binds.append(event.context.requestID)
            binds.append(event.context.userID)
            let p = (1...11).map { "$\(base + $0)" }
            values.append(
                "(\(p[0]), \(p[1]), \(p[2]), \(p[3]), \(p[4]), ap_ts(\(p[5])), 'application/json', \(p[6])::jsonb, "
                    + "\(p[7]), \(p[8]), \(p[9]), \(p[10]))"
            )
        }
        let audit =
            audits.isEmpty
            ? ""
            : "WITH ap_audit AS (INSERT INTO audit_log (\(PostgresAuditLogStore.insertColumns)) VALUES \(auditValues)) "
        let rows = try await connection.guardedQuery(
            PostgresQuery(
                unsafeSQL: """
                    \(audit)INSERT INTO events (tenant_id, id, source, type, subject, time, data_content_type, data,
                        correlation_id, causation_id, request_id, user_id)
                    VALUES \(values.joined(separator: ", "))
                    RETURNING id, txid::text AS txid, ordinal
                    """,
                binds: binds
            ),
            logger: logger
        )
        var positions: [String: EventPosition] = [:]
        for try await row in rows {
            let row = row.makeRandomAccess()
            positions[try row["id"].decode(String.self)] = try position(row)
        }
        return try events.map { event in
            guard let position = positions[event.id] else {
                throw StoreError(.corruptData, "An appended event came back without its position.")
            }
            return event.stored(tenant: tenant, position: position)
        }
    }

    static func position(_ row: PostgresRandomAccessRow) throws -> EventPosition {
        guard let txid = UInt64(try row["txid"].decode(String.self)) else {
            throw StoreError(.corruptData, "A stored event position could not be decoded.")
        }
        return EventPosition(major: txid, minor: UInt64(try row["ordinal"].decode(Int64.self)))
    }

    static func event(from row: PostgresRandomAccessRow, tenant: TenantID) throws -> Event {
        Event(
            tenantID: tenant,
            position: try position(row),
            id: try row["id"].decode(String.self),
            source: try row["source"].decode(String.self),
            type: try row["type"].decode(String.self),
            subject: try row["subject"].decode(String?.self),
            time: Timestamp(microsecondsSinceEpoch: try row["time"].decode(Int64.self)),
            dataContentType: try row["data_content_type"].decode(String.self),
            dataJSON: try row["data"].decode(String.self),
            context: EventContext(
                correlationID: try row["correlation_id"].decode(String?.self),
                causationID: try row["causation_id"].decode(String?.self),
                requestID: try row["request_id"].decode(String?.self),
                userID: try row["user_id"].decode(String?.self)
            )
        )
    }
}
