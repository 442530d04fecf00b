import AgentplaneCore
import AgentplaneStore
import Foundation
import GRDB

/// Knowledge-base entries on SQLite, searched with FTS5 (an entry is in the index while `ready`).
struct SQLiteKnowledgeBaseStore: KnowledgeBaseStore {
    let pool: DatabasePool

    func create(_ entry: KnowledgeBaseEntry, records: [ChangeRecord]) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                guard
                    try Bool.fetchOne(
                        try db.cachedStatement(
                            sql: "SELECT EXISTS (SELECT 1 FROM instances WHERE tenant_id = ? AND id = ?)"),
                        arguments: [entry.tenantID.description, entry.instanceID.lowercasedString]
                    ) == true
                else { throw StoreError(.notFound, "No such instance.") }
                try SQLiteTenantUsage.reserve(.kbEntries, tenant: entry.tenantID, in: db)
                try db.cachedStatement(
                    sql: """
                        INSERT INTO kb_entries (id, tenant_id, instance_id, content, data_type, lang_hint, status,
                            failure_reason, metadata, version, created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """
                ).execute(
                    arguments: [
                        entry.id.lowercasedString, entry.tenantID.description, entry.instanceID.lowercasedString,
                        entry.content, entry.dataType.rawValue, entry.langHint.rawValue, entry.status.rawValue,
                        entry.failureReason, JSONValue.object(entry.metadata).jsonText,
                        entry.version, entry.createdAt.microsecondsSinceEpoch, entry.updatedAt.microsecondsSinceEpoch,
                    ]
                )
                if entry.status == .ready { try Self.insertIndexRow(entry, in: db) }
                for record in records { try SQLiteChangeRecorder.record(record, in: db) }
            }
        }
    }

    func find(tenant: TenantID, instance: UUID, id: UUID) async throws -> KnowledgeBaseEntry? {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchOne(
                    try db.cachedStatement(
                        sql: "SELECT \(Self.columns) FROM kb_entries WHERE tenant_id = ? AND instance_id = ? AND id = ?"
                    ),
                    arguments: [tenant.description, instance.lowercasedString, id.lowercasedString]
                ).map(Self.entry)
            }
        }
    }

    func list(tenant: TenantID, instance: UUID, after: UUID?, limit: Int, status: KBEntryStatus?) async throws
        -> [KnowledgeBaseEntry]
    {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchAll(
                    try db.cachedStatement(
                        sql: """
                            SELECT \(Self.columns) FROM kb_entries WHERE tenant_id = ? AND instance_id = ? AND id > ?
                                AND (? IS NULL OR status = ?)
                            ORDER BY id LIMIT ?
                            """),
                    arguments: [
                        tenant.description, instance.lowercasedString, after?.lowercasedString ?? "",
                        status?.rawValue, status?.rawValue, limit,
                    ]
                ).map(Self.entry)
            }
        }
    }

    func update(
        _ entry: KnowledgeBaseEntry, expectedVersion: Int64, from: KBEntryStatus, records: [ChangeRecord]
    ) async throws -> KnowledgeBaseEntry {
        try from.validateChange(to: entry.status)
        try StoreError.checkVersion(entry.version, after: expectedVersion)
        return try await SQLiteErrors.translating {
            try await pool.write { db in
                let next = entry
                try db.cachedStatement(
                    sql: """
                        UPDATE kb_entries SET content = ?, data_type = ?, lang_hint = ?, status = ?, failure_reason = ?,
                            metadata = ?, version = ?, updated_at = ?
                        WHERE tenant_id = ? AND instance_id = ? AND id = ? AND version = ? AND status = ?
                        """
                ).execute(
                    arguments: [
                        next.content, next.dataType.rawValue, next.langHint.rawValue, next.status.rawValue,
                        next.failureReason, JSONValue.object(next.metadata).jsonText,
                        next.version, next.updatedAt.microsecondsSinceEpoch, next.tenantID.description,
                        next.instanceID.lowercasedString, next.id.lowercasedString, expectedVersion, from.rawValue,
                    ]
                )
                guard db.changesCount == 1 else {
                    let exists = try SQLiteRows.exists(db, table: "kb_entries", id: next.id, tenant: next.tenantID)
                    throw StoreError.conditionalWriteMissed("entry", rowExists: exists)
                }
                try Self.index(next, in: db)
                for record in records { try SQLiteChangeRecorder.record(record, in: db) }
                return next
            }
        }
    }

    func delete(tenant: TenantID, instance: UUID, id: UUID, record: ChangeRecord) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: "DELETE FROM kb_entries WHERE tenant_id = ? AND instance_id = ? AND id = ?"
                ).execute(
                    arguments: [tenant.description, instance.lowercasedString, id.lowercasedString]
                )
                guard db.changesCount == 1 else { throw StoreError(.notFound, "No such entry.") }
                try SQLiteTenantUsage.release(.kbEntries, count: 1, tenant: tenant, in: db)
                try Self.unindex(token: Self.entryToken(id), in: db)
                try SQLiteChangeRecorder.record(record, in: db)
            }
        }
    }

    func search(tenant: TenantID, instance: UUID, query: String, limit: Int) async throws -> [KnowledgeBaseHit] {
        // Each word becomes a quoted FTS5 string: the user's text is never FTS5 syntax.
        let words = query.components(separatedBy: CharacterSet.alphanumerics.inverted).filter { !$0.isEmpty }
        guard !words.isEmpty else { return [] }
        // The scope token narrows the match inside the index (an intersection of posting lists) to the
        // instance's entries, so a common word costs its matches in this instance only, and no
        // other tenant's row is ever read. Ranking weighs the content column alone.
        let match =
            "scope : \"\(Self.scopeToken(tenant: tenant, instance: instance))\" AND content : ("
            + words.map { "\"\($0)\"" }.joined(separator: " ") + ")"
        return try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchAll(
                    try db.cachedStatement(
                        sql: """
                            SELECT entry_id, -bm25(kb_entries_fts, 0, 0, 1) AS rank,
                                snippet(kb_entries_fts, 2, '[', ']', '…', 12) AS snippet
                            FROM kb_entries_fts
                            WHERE kb_entries_fts MATCH ?
                            ORDER BY bm25(kb_entries_fts, 0, 0, 1) LIMIT ?
                            """),
                    arguments: [match, limit]
                ).compactMap { row in
                    UUID(canonical: row["entry_id"]).map {
                        KnowledgeBaseHit(entryID: $0, rank: row["rank"], snippet: row["snippet"])
                    }
                }
            }
        }
    }

    /// The instance's token in the `scope` column: `s`, then the tenant's and the instance's ids as hex
    /// without dashes (one word for the tokenizer).
    static func scopeToken(tenant: TenantID, instance: UUID) -> String {
        "s" + tenant.description.replacingOccurrences(of: "-", with: "")
            + instance.lowercasedString.replacingOccurrences(of: "-", with: "")
    }

    /// The entry's own token in the `scope` column: `e` and its id as hex, so that removing one entry
    /// from the index is an index lookup, not a scan of every tenant's rows.
    static func entryToken(_ id: UUID) -> String {
        "e" + id.lowercasedString.replacingOccurrences(of: "-", with: "")
    }

    /// Removes from the index every row whose `scope` holds `token` (an entry's or an instance's).
    static func unindex(token: String, in db: Database) throws {
        try db.cachedStatement(
            sql:
                "DELETE FROM kb_entries_fts WHERE rowid IN (SELECT rowid FROM kb_entries_fts WHERE kb_entries_fts MATCH ?)"
        ).execute(
            arguments: ["scope : \"\(token)\""]
        )
    }

    /// Keeps the FTS index in step: a `ready` entry is indexed, any other state is not.
    static func index(_ entry: KnowledgeBaseEntry, in db: Database) throws {
        try unindex(token: entryToken(entry.id), in: db)
        if entry.status == .ready { try insertIndexRow(entry, in: db) }
    }

    /// The entry's row in the FTS index (a new entry has none to remove first).
    static func insertIndexRow(_ entry: KnowledgeBaseEntry, in db: Database) throws {
        try db.cachedStatement(
            sql: "INSERT INTO kb_entries_fts (entry_id, scope, content) VALUES (?, ?, ?)"
        ).execute(
            arguments: [
                entry.id.lowercasedString,
                scopeToken(tenant: entry.tenantID, instance: entry.instanceID) + " " + entryToken(entry.id),
                entry.content,
            ]
        )
    }

    /// The columns `entry(_:)` reads, by position.
    static let columns = """
        id, tenant_id, instance_id, content, data_type, lang_hint, status, failure_reason, metadata, version, \
        created_at, updated_at
        """

    static func entry(_ row: Row) throws -> KnowledgeBaseEntry {
        guard let id = UUID(canonical: row[0]), let tenant = TenantID(uuidString: row[1]),
            let instance = UUID(canonical: row[2]),
            let dataType = KBDataType(rawValue: row[4]), let lang = KBLangHint(rawValue: row[5]),
            let status = KBEntryStatus(rawValue: row[6]),
            let metadata = JSONValue(parsing: row[8] as String)?.objectValue
        else { throw StoreError(.corruptData, "A stored knowledge-base entry could not be decoded.") }
        return KnowledgeBaseEntry(
            id: id,
            tenantID: tenant,
            instanceID: instance,
            content: row[3],
            dataType: dataType,
            langHint: lang,
            status: status,
            failureReason: row[7],
            metadata: metadata,
            version: row[9],
            createdAt: Timestamp(microsecondsSinceEpoch: row[10]),
            updatedAt: Timestamp(microsecondsSinceEpoch: row[11])
        )
    }
}
