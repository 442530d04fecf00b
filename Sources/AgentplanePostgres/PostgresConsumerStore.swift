import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import PostgresNIO

/// Named consumers on PostgreSQL.
struct PostgresConsumerStore: ConsumerStore {
    let client: PostgresClient
    let logger: Logger

    func create(_ consumer: Consumer, record: ChangeRecord) async throws {
        let types = JSONValue.array(consumer.filter.types.map(JSONValue.string)).jsonText
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(consumer.tenantID), logger: logger) { connection in
                try await connection.guardedQuery(
                    """
                    INSERT INTO consumers (tenant_id, name, event_types, subject, format, committed_offset, version,
                        created_at, updated_at, acked_at)
                    VALUES (\(consumer.tenantID.rawValue), \(consumer.name), \(types)::jsonb, \(consumer.filter.subject),
                        \(consumer.format.rawValue), \(consumer.offset.description), \(consumer.version),
                        ap_ts(\(consumer.createdAt.microsecondsSinceEpoch)),
                        ap_ts(\(consumer.updatedAt.microsecondsSinceEpoch)), NULL)
                    """,
                    logger: logger)
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
            }
        }
    }

    func find(tenant: TenantID, name: String) async throws -> Consumer? {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(name)
        return try await read(.tenant(tenant), "WHERE tenant_id = $1 AND name = $2", binds).first
    }

    func list(tenant: TenantID, after: String?, limit: Int) async throws -> [Consumer] {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(after ?? "")
        binds.append(limit)
        return try await read(
            .tenant(tenant), "WHERE tenant_id = $1 AND name COLLATE \"C\" > $2 ORDER BY name COLLATE \"C\" LIMIT $3",
            binds)
    }

    func listAll(limit: Int) async throws -> [Consumer] {
        var binds = PostgresBindings()
        binds.append(limit)
        return try await read(.platformWide, "ORDER BY tenant_id, name COLLATE \"C\" LIMIT $1", binds)
    }

    func commit(_ consumer: Consumer, expectedVersion: Int64, record: ChangeRecord) async throws {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(consumer.tenantID), logger: logger) { connection in
                var updated = false
                for try await _ in try await connection.guardedQuery(
                    """
                    UPDATE consumers SET committed_offset = \(consumer.offset.description), version = \(consumer.version),
                        updated_at = ap_ts(\(consumer.updatedAt.microsecondsSinceEpoch)),
                        acked_at = ap_ts(\(consumer.ackedAt?.microsecondsSinceEpoch))
                    WHERE tenant_id = \(consumer.tenantID.rawValue) AND name = \(consumer.name)
                        AND version = \(expectedVersion)
                    RETURNING name
                    """,
                    logger: logger
                ) {
                    updated = true
                }
                guard updated else {
                    var exists = false
                    for try await _ in try await connection.guardedQuery(
                        """
                        SELECT 1 FROM consumers WHERE tenant_id = \(consumer.tenantID.rawValue) AND name = \(consumer.name)
                        """,
                        logger: logger
                    ) {
                        exists = true
                    }
                    throw StoreError.conditionalWriteMissed("consumer", rowExists: exists)
                }
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
            }
        }
    }

    func delete(tenant: TenantID, name: String, record: ChangeRecord) async throws {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(tenant), logger: logger) { connection in
                var deleted = false
                for try await _ in try await connection.guardedQuery(
                    "DELETE FROM consumers WHERE tenant_id = \(tenant.rawValue) AND name = \(name) RETURNING name",
                    logger: logger
                ) {
                    deleted = true
                }
                guard deleted else { throw StoreError(.notFound, "No such consumer.") }
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
            }
        }
    }

    func lag(tenant: TenantID, after offset: EventPosition, cap: Int) async throws -> Int {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(String(offset.major))
        binds.append(Int64(clamping: offset.minor))
        binds.append(cap)
        // Only what a reader may see now: events of transactions older than the oldest one running.
        let sql = """
            WITH horizon AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
            SELECT count(*)::bigint AS lag FROM (
                SELECT 1 FROM events e, horizon
                WHERE e.tenant_id = $1 AND (e.txid, e.ordinal) > ($2::text::xid8, $3) AND e.txid < horizon.xmin
                LIMIT $4
            ) s
            """
        return try await PostgresErrors.translating {
            try await client.withScopedRead(.tenant(tenant), sql: sql, binds: binds, logger: logger) { rows in
                for try await row in rows { return Int(try row.makeRandomAccess()["lag"].decode(Int64.self)) }
                return 0
            }
        }
    }

    private func read(_ scope: RowScope, _ condition: String, _ binds: PostgresBindings) async throws -> [Consumer] {
        try await PostgresErrors.translating {
            try await client.withScopedRead(
                scope,
                sql: """
                    SELECT tenant_id, name, event_types::text AS event_types, subject, format, committed_offset, version,
                        ap_micros(created_at) AS created_at, ap_micros(updated_at) AS updated_at,
                        ap_micros(acked_at) AS acked_at
                    FROM consumers \(condition)
                    """,
                binds: binds, logger: logger
            ) { rows in
                var consumers: [Consumer] = []
                for try await row in rows { consumers.append(try Self.consumer(row.makeRandomAccess())) }
                return consumers
            }
        }
    }

    static func consumer(_ row: PostgresRandomAccessRow) throws -> Consumer {
        let types = JSONValue(parsing: try row["event_types"].decode(String.self))?.arrayValue
        let subject = try row["subject"].decode(String?.self)
        guard let types, let format = EventFormat(rawValue: try row["format"].decode(String.self)),
            let offset = EventPosition(try row["committed_offset"].decode(String.self)),
            let filter = try? EventFilter(types: types.compactMap(\.stringValue), subject: subject)
        else { throw StoreError(.corruptData, "A stored consumer could not be decoded.") }
        return Consumer(
            tenantID: TenantID(try row["tenant_id"].decode(UUID.self)), name: try row["name"].decode(String.self),
            filter: filter, format: format, offset: offset, version: try row["version"].decode(Int64.self),
            createdAt: Timestamp(microsecondsSinceEpoch: try row["created_at"].decode(Int64.self)),
            updatedAt: Timestamp(microsecondsSinceEpoch: try row["updated_at"].decode(Int64.self)),
            ackedAt: try row["acked_at"].decode(Int64?.self).map(Timestamp.init(microsecondsSinceEpoch:)))
    }
}
