import AgentplaneCore
import AgentplaneStore
import Foundation
import GRDB

/// Named consumers on SQLite.
struct SQLiteConsumerStore: ConsumerStore {
    let pool: DatabasePool

    func create(_ consumer: Consumer, record: ChangeRecord) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: "INSERT INTO consumers (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                ).execute(arguments: Self.arguments(consumer))
                try SQLiteChangeRecorder.record(record, in: db)
            }
        }
    }

    func find(tenant: TenantID, name: String) async throws -> Consumer? {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchOne(
                    try db.cachedStatement(
                        sql: "SELECT \(Self.columns) FROM consumers WHERE tenant_id = ? AND name = ?"),
                    arguments: [tenant.description, name]
                ).map(Self.consumer)
            }
        }
    }

    func list(tenant: TenantID, after: String?, limit: Int) async throws -> [Consumer] {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchAll(
                    try db.cachedStatement(
                        sql: """
                            SELECT \(Self.columns) FROM consumers WHERE tenant_id = ? AND name > ? ORDER BY name LIMIT ?
                            """),
                    arguments: [tenant.description, after ?? "", limit]
                ).map(Self.consumer)
            }
        }
    }

    func listAll(limit: Int) async throws -> [Consumer] {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchAll(
                    try db.cachedStatement(
                        sql: "SELECT \(Self.columns) FROM consumers ORDER BY tenant_id, name LIMIT ?"),
                    arguments: [limit]
                ).map(Self.consumer)
            }
        }
    }

    func commit(_ consumer: Consumer, expectedVersion: Int64, record: ChangeRecord) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: """
                        UPDATE consumers SET committed_offset = ?, version = ?, updated_at = ?, acked_at = ?
                        WHERE tenant_id = ? AND name = ? AND version = ?
                        """
                ).execute(arguments: [
                    consumer.offset.description, consumer.version, consumer.updatedAt.microsecondsSinceEpoch,
                    consumer.ackedAt?.microsecondsSinceEpoch, consumer.tenantID.description, consumer.name,
                    expectedVersion,
                ])
                guard db.changesCount == 1 else {
                    let exists =
                        try Bool.fetchOne(
                            db, sql: "SELECT EXISTS (SELECT 1 FROM consumers WHERE tenant_id = ? AND name = ?)",
                            arguments: [consumer.tenantID.description, consumer.name]) ?? false
                    throw StoreError.conditionalWriteMissed("consumer", rowExists: exists)
                }
                try SQLiteChangeRecorder.record(record, in: db)
            }
        }
    }

    func delete(tenant: TenantID, name: String, record: ChangeRecord) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(sql: "DELETE FROM consumers WHERE tenant_id = ? AND name = ?").execute(
                    arguments: [tenant.description, name])
                guard db.changesCount == 1 else { throw StoreError(.notFound, "No such consumer.") }
                try SQLiteChangeRecorder.record(record, in: db)
            }
        }
    }

    func lag(tenant: TenantID, after offset: EventPosition, cap: Int) async throws -> Int {
        // Positions this log hands out have a zero coarse half; one beyond them has nothing after it.
        guard offset.major == 0 else { return 0 }
        return try await SQLiteErrors.translating {
            try await pool.read { db in
                try Int.fetchOne(
                    try db.cachedStatement(
                        sql: """
                            SELECT count(*) FROM (SELECT 1 FROM events WHERE tenant_id = ? AND sequence > ? LIMIT ?)
                            """),
                    arguments: [tenant.description, Int64(clamping: offset.minor), cap]
                ) ?? 0
            }
        }
    }

    static let columns = """
        tenant_id, name, event_types, subject, format, committed_offset, version, created_at, updated_at, acked_at
        """

    static func arguments(_ consumer: Consumer) -> StatementArguments {
        [
            consumer.tenantID.description, consumer.name,
            JSONValue.array(consumer.filter.types.map(JSONValue.string)).jsonText,
            consumer.filter.subject, consumer.format.rawValue, consumer.offset.description, consumer.version,
            consumer.createdAt.microsecondsSinceEpoch, consumer.updatedAt.microsecondsSinceEpoch,
            consumer.ackedAt?.microsecondsSinceEpoch,
        ]
    }

    static func consumer(_ row: Row) throws -> Consumer {
        guard let tenant = TenantID(uuidString: row[0]), let types = JSONValue(parsing: row[2] as String)?.arrayValue,
            let format = EventFormat(rawValue: row[4]), let offset = EventPosition(row[5] as String),
            let filter = try? EventFilter(types: types.compactMap(\.stringValue), subject: row[3])
        else { throw StoreError(.corruptData, "A stored consumer could not be decoded.") }
        return Consumer(
            tenantID: tenant, name: row[1], filter: filter, format: format, offset: offset, version: row[6],
            createdAt: Timestamp(microsecondsSinceEpoch: row[7]), updatedAt: Timestamp(microsecondsSinceEpoch: row[8]),
            ackedAt: (row[9] as Int64?).map(Timestamp.init(microsecondsSinceEpoch:)))
    }
}
