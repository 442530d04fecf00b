import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import PostgresNIO

/// The event log on PostgreSQL.
///
/// Sequences come from a per-tenant counter row updated inside the appending transaction. The row lock
/// is held until commit, so a second appender for the same tenant waits and commits after the first:
/// commit order equals sequence order, and a reader that saw N never sees a smaller sequence appear.
struct PostgresEventLog: EventLog {
    let client: PostgresClient
    let logger: Logger

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
            try await client.withTenantTransaction(.tenant(tenant), logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    SELECT sequence, id, source, type, subject, ap_micros(time) AS time, data_content_type, data::text AS data,
                        correlation_id, causation_id, request_id, user_id
                    FROM events
                    WHERE tenant_id = \(tenant.rawValue) AND sequence > \(query.after)
                        AND (\(query.type)::text IS NULL OR type = \(query.type))
                        AND (\(query.subject)::text IS NULL OR subject = \(query.subject))
                    ORDER BY sequence
                    LIMIT \(query.limit)
                    """,
                    logger: logger
                )
                var events: [Event] = []
                for try await row in rows {
                    events.append(try Self.event(from: row.makeRandomAccess(), tenant: tenant))
                }
                return events
            }
        }
    }

    func latestSequence(tenant: TenantID) async throws -> Int64 {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(tenant), logger: logger) { connection in
                let rows = try await connection.query(
                    "SELECT last_sequence FROM event_sequences WHERE tenant_id = \(tenant.rawValue)",
                    logger: logger
                )
                for try await sequence in rows.decode(Int64.self) { return sequence }
                return 0
            }
        }
    }

    /// Appends inside the caller's transaction; call it last, just before commit, to keep the
    /// per-tenant counter lock short.
    static func append(
        _ events: [NewEvent],
        tenant: TenantID,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> [Event] {
        guard !events.isEmpty else { return [] }
        var last: Int64 = 0
        for try await value in try await connection.query(
            """
            INSERT INTO event_sequences (tenant_id, last_sequence) VALUES (\(tenant.rawValue), \(Int64(events.count)))
            ON CONFLICT (tenant_id) DO UPDATE SET last_sequence = event_sequences.last_sequence + excluded.last_sequence
            RETURNING last_sequence
            """,
            logger: logger
        ).decode(Int64.self) {
            last = value
        }
        let encoder = JSONEncoder()
        let stored = NewEvent.stored(events, tenant: tenant, lastSequence: last)
        for event in stored {
            let data = String(decoding: try encoder.encode(event.data), as: UTF8.self)
            try await connection.query(
                """
                INSERT INTO events (tenant_id, sequence, id, source, type, subject, time, data_content_type, data,
                    correlation_id, causation_id, request_id, user_id)
                VALUES (\(tenant.rawValue), \(event.sequence), \(event.id), \(event.source), \(event.type),
                    \(event.subject), ap_ts(\(event.time.microsecondsSinceEpoch)), \(event.dataContentType),
                    \(data)::jsonb, \(event.context.correlationID), \(event.context.causationID),
                    \(event.context.requestID), \(event.context.userID))
                """,
                logger: logger
            )
        }
        return stored
    }

    static func event(from row: PostgresRandomAccessRow, tenant: TenantID) throws -> Event {
        let dataText = try row["data"].decode(String.self)
        guard let data = JSONValue(parsing: dataText) else {
            throw StoreError(.corruptData, "A stored event could not be decoded.")
        }
        return Event(
            tenantID: tenant,
            sequence: try row["sequence"].decode(Int64.self),
            id: try row["id"].decode(String.self),
            source: try row["source"].decode(String.self),
            type: try row["type"].decode(String.self),
            subject: try row["subject"].decode(String?.self),
            time: Timestamp(microsecondsSinceEpoch: try row["time"].decode(Int64.self)),
            dataContentType: try row["data_content_type"].decode(String.self),
            data: data,
            context: EventContext(
                correlationID: try row["correlation_id"].decode(String?.self),
                causationID: try row["causation_id"].decode(String?.self),
                requestID: try row["request_id"].decode(String?.self),
                userID: try row["user_id"].decode(String?.self)
            )
        )
    }
}
