import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import PostgresNIO

/// Knowledge-base entries on PostgreSQL, searched through a `tsvector` with a GIN index (set while the
/// entry is `ready`, cleared otherwise).
struct PostgresKnowledgeBaseStore: KnowledgeBaseStore {
    let client: PostgresClient
    let logger: Logger

    static let columns = """
        id, tenant_id, instance_id, content, data_type, lang_hint, status, failure_reason, metadata::text AS metadata,
        version, ap_micros(created_at) AS created_at, ap_micros(updated_at) AS updated_at
        """

    func create(_ entry: KnowledgeBaseEntry, records: [ChangeRecord]) async throws {
        let metadata = JSONValue.object(entry.metadata).jsonText
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(entry.tenantID), logger: logger) { connection in
                var inserted = false
                for try await _ in try await connection.guardedQuery(
                    """
                    INSERT INTO kb_entries (id, tenant_id, instance_id, content, data_type, lang_hint, status,
                        failure_reason, metadata, version, created_at, updated_at, search_vector)
                    SELECT \(entry.id), \(entry.tenantID.rawValue), \(entry.instanceID), \(entry.content),
                        \(entry.dataType.rawValue), \(entry.langHint.rawValue), \(entry.status.rawValue),
                        \(entry.failureReason), \(metadata)::jsonb, \(entry.version),
                        ap_ts(\(entry.createdAt.microsecondsSinceEpoch)), ap_ts(\(entry.updatedAt.microsecondsSinceEpoch)),
                        CASE WHEN \(entry.status.rawValue) = 'ready' THEN to_tsvector('simple', \(entry.content)) END
                    WHERE EXISTS (
                        SELECT 1 FROM instances WHERE tenant_id = \(entry.tenantID.rawValue) AND id = \(entry.instanceID))
                    RETURNING id
                    """,
                    logger: logger
                ) {
                    inserted = true
                }
                guard inserted else { throw StoreError(.notFound, "No such instance.") }
                try await PostgresChangeRecorder.record(records, on: connection, logger: logger)
                try await PostgresTenantUsage.reserve(
                    .kbEntries, tenant: entry.tenantID, on: connection, logger: logger)
            }
        }
    }

    func find(tenant: TenantID, instance: UUID, id: UUID) async throws -> KnowledgeBaseEntry? {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(instance)
        binds.append(id)
        return try await PostgresErrors.translating {
            try await client.withScopedRead(
                .tenant(tenant),
                sql: "SELECT \(Self.columns) FROM kb_entries WHERE tenant_id = $1 AND instance_id = $2 AND id = $3",
                binds: binds,
                logger: logger
            ) { rows in
                for try await row in rows { return try Self.entry(row.makeRandomAccess()) }
                return nil
            }
        }
    }

    func list(tenant: TenantID, instance: UUID, after: UUID?, limit: Int, status: KBEntryStatus?) async throws
        -> [KnowledgeBaseEntry]
    {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(instance)
        binds.append(after)
        binds.append(status?.rawValue)
        binds.append(limit)
        let sql = """
            SELECT \(Self.columns) FROM kb_entries
            WHERE tenant_id = $1 AND instance_id = $2 AND ($3::uuid IS NULL OR id > $3)
                AND ($4::text IS NULL OR status = $4)
            ORDER BY id LIMIT $5
            """
        return try await PostgresErrors.translating {
            try await client.withScopedRead(.tenant(tenant), sql: sql, binds: binds, logger: logger) { rows in
                var entries: [KnowledgeBaseEntry] = []
                for try await row in rows { entries.append(try Self.entry(row.makeRandomAccess())) }
                return entries
            }
        }
    }

    func update(
        _ entry: KnowledgeBaseEntry, expectedVersion: Int64, from: KBEntryStatus, records: [ChangeRecord]
    ) async throws -> KnowledgeBaseEntry {
        try from.validateChange(to: entry.status)
        try StoreError.checkVersion(entry.version, after: expectedVersion)
        let next = entry
        let metadata = JSONValue.object(next.metadata).jsonText
        return try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(entry.tenantID), logger: logger) { connection in
                var updated = false
                for try await _ in try await connection.guardedQuery(
                    """
                    UPDATE kb_entries SET content = \(next.content), data_type = \(next.dataType.rawValue),
                        lang_hint = \(next.langHint.rawValue), status = \(next.status.rawValue),
                        failure_reason = \(next.failureReason), metadata = \(metadata)::jsonb, version = \(next.version),
                        updated_at = ap_ts(\(next.updatedAt.microsecondsSinceEpoch)),
                        search_vector = CASE WHEN \(next.status.rawValue) = 'ready'
                            THEN to_tsvector('simple', \(next.content)) END
                    WHERE tenant_id = \(next.tenantID.rawValue) AND instance_id = \(next.instanceID) AND id = \(next.id)
                        AND version = \(expectedVersion) AND status = \(from.rawValue)
                    RETURNING id
                    """,
                    logger: logger
                ) {
                    updated = true
                }
                guard updated else {
                    let exists = try await PostgresRows.exists(
                        on: connection, table: "kb_entries", id: next.id, tenant: next.tenantID, logger: logger)
                    throw StoreError.conditionalWriteMissed("entry", rowExists: exists)
                }
                try await PostgresChangeRecorder.record(records, on: connection, logger: logger)
                return next
            }
        }
    }

    func delete(tenant: TenantID, instance: UUID, id: UUID, record: ChangeRecord) async throws {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(tenant), logger: logger) { connection in
                var deleted = false
                for try await _ in try await connection.guardedQuery(
                    """
                    DELETE FROM kb_entries WHERE tenant_id = \(tenant.rawValue) AND instance_id = \(instance) AND id = \(id)
                    RETURNING id
                    """,
                    logger: logger
                ) {
                    deleted = true
                }
                guard deleted else { throw StoreError(.notFound, "No such entry.") }
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
                try await PostgresTenantUsage.release(
                    .kbEntries, count: 1, tenant: tenant, on: connection, logger: logger)
            }
        }
    }

    func search(tenant: TenantID, instance: UUID, query: String, limit: Int) async throws -> [KnowledgeBaseHit] {
        let words = query.components(separatedBy: CharacterSet.alphanumerics.inverted).filter { !$0.isEmpty }
        guard !words.isEmpty else { return [] }
        var binds = PostgresBindings()
        binds.append(words.joined(separator: " "))
        binds.append(tenant.rawValue)
        binds.append(instance)
        binds.append(limit)
        // The headline is computed after the LIMIT (PostgreSQL postpones costly output expressions past
        // a sort with a limit), so only the page's entries are highlighted.
        let sql = """
            SELECT id, ts_rank(search_vector, words)::float8 AS rank,
                ts_headline('simple', content, words, 'StartSel=[, StopSel=], MaxWords=24, MinWords=8') AS snippet
            FROM kb_entries, plainto_tsquery('simple', $1) AS words
            WHERE tenant_id = $2 AND instance_id = $3 AND status = 'ready' AND search_vector @@ words
            ORDER BY ts_rank(search_vector, words) DESC, id
            LIMIT $4
            """
        return try await PostgresErrors.translating {
            try await client.withScopedRead(.tenant(tenant), sql: sql, binds: binds, logger: logger) { rows in
                var hits: [KnowledgeBaseHit] = []
                for try await (id, rank, snippet) in rows.decode((UUID, Double, String).self) {
                    hits.append(KnowledgeBaseHit(entryID: id, rank: rank, snippet: snippet))
                }
                // The nested loop keeps the order; sort again by the same key, to be sure.
                return hits.sorted { ($0.rank, $1.entryID.uuidString) > ($1.rank, $0.entryID.uuidString) }
            }
        }
    }

    static func entry(_ row: PostgresRandomAccessRow) throws -> KnowledgeBaseEntry {
        guard let dataType = KBDataType(rawValue: try row["data_type"].decode(String.self)),
            let lang = KBLangHint(rawValue: try row["lang_hint"].decode(String.self)),
            let status = KBEntryStatus(rawValue: try row["status"].decode(String.self)),
            let metadata = JSONValue(parsing: try row["metadata"].decode(String.self))?.objectValue
        else { throw StoreError(.corruptData, "A stored knowledge-base entry could not be decoded.") }
        return KnowledgeBaseEntry(
            id: try row["id"].decode(UUID.self),
            tenantID: TenantID(try row["tenant_id"].decode(UUID.self)),
            instanceID: try row["instance_id"].decode(UUID.self),
            content: try row["content"].decode(String.self),
            dataType: dataType,
            langHint: lang,
            status: status,
            failureReason: try row["failure_reason"].decode(String?.self),
            metadata: metadata,
            version: try row["version"].decode(Int64.self),
            createdAt: Timestamp(microsecondsSinceEpoch: try row["created_at"].decode(Int64.self)),
            updatedAt: Timestamp(microsecondsSinceEpoch: try row["updated_at"].decode(Int64.self))
        )
    }
}
