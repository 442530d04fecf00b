import AgentplaneCore
import AgentplaneStore
import Foundation
import GRDB

/// Commands on SQLite.
struct SQLiteCommandStore: CommandStore {
    let pool: DatabasePool

    func submit(_ command: Command, record: ChangeRecord) async throws -> (command: Command, created: Bool) {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: """
                        INSERT INTO commands (\(Self.columns))
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (tenant_id, request_id) DO NOTHING
                        """
                ).execute(arguments: Self.arguments(command))
                guard db.changesCount == 1 else {
                    let first = try Row.fetchOne(
                        try db.cachedStatement(
                            sql: "SELECT \(Self.columns) FROM commands WHERE tenant_id = ? AND request_id = ?"),
                        arguments: [command.tenantID.description, command.requestID])
                    guard let first else { throw StoreError(.other, "The command could not be stored.") }
                    return (try Self.command(first), false)
                }
                try SQLiteChangeRecorder.record(record, in: db)
                return (command, true)
            }
        }
    }

    func find(tenant: TenantID, id: UUID) async throws -> Command? {
        try await SQLiteErrors.translating {
            try await pool.read { db in try Self.find(tenant: tenant, id: id, in: db) }
        }
    }

    func list(tenant: TenantID, query: CommandQuery) async throws -> [Command] {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                var sql = "SELECT \(Self.columns) FROM commands WHERE tenant_id = ?"
                var arguments: StatementArguments = [tenant.description]
                if let status = query.status {
                    sql += " AND status = ?"
                    arguments += [status.rawValue]
                }
                if let action = query.action {
                    sql += " AND action = ?"
                    arguments += [action.rawValue]
                }
                if let before = query.before {
                    sql += " AND id < ?"
                    arguments += [before.lowercasedString]
                }
                sql += " ORDER BY id DESC LIMIT ?"
                arguments += [query.limit]
                return try Row.fetchAll(try db.cachedStatement(sql: sql), arguments: arguments).map(Self.command)
            }
        }
    }

    func begin(tenant: TenantID, id: UUID, at now: Timestamp) async throws -> Command? {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: """
                        UPDATE commands SET status = 'processing', attempts = attempts + 1, updated_at = ?
                        WHERE tenant_id = ? AND id = ? AND status IN ('accepted', 'processing')
                        """
                ).execute(arguments: [now.microsecondsSinceEpoch, tenant.description, id.lowercasedString])
                return try Self.find(tenant: tenant, id: id, in: db)
            }
        }
    }

    func fail(tenant: TenantID, id: UUID, error: JSONValue, at now: Timestamp, record: ChangeRecord) async throws
        -> Bool
    {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: """
                        UPDATE commands SET status = 'dead', error = ?, updated_at = ?, finished_at = ?
                        WHERE tenant_id = ? AND id = ? AND status IN ('accepted', 'processing')
                        """
                ).execute(arguments: [
                    error.jsonText, now.microsecondsSinceEpoch, now.microsecondsSinceEpoch, tenant.description,
                    id.lowercasedString,
                ])
                guard db.changesCount == 1 else { return false }
                try SQLiteChangeRecorder.record(record, in: db)
                return true
            }
        }
    }

    func replay(tenant: TenantID, id: UUID, run: UUID, at now: Timestamp, record: ChangeRecord) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: """
                        UPDATE commands SET status = 'accepted', error = NULL, finished_at = NULL, run_id = ?,
                            updated_at = ?
                        WHERE tenant_id = ? AND id = ? AND status = 'dead'
                        """
                ).execute(arguments: [
                    run.lowercasedString, now.microsecondsSinceEpoch, tenant.description, id.lowercasedString,
                ])
                guard db.changesCount == 1 else {
                    let exists = try Self.find(tenant: tenant, id: id, in: db) != nil
                    throw StoreError.conditionalWriteMissed("command", rowExists: exists)
                }
                try SQLiteChangeRecorder.record(record, in: db)
            }
        }
    }

    /// Completes a command inside the transaction of the change it caused; a command that has already
    /// ended fails the transaction (the change is not applied twice).
    static func complete(_ completion: CommandCompletion, in db: Database) throws {
        let at = completion.finishedAt.microsecondsSinceEpoch
        try db.cachedStatement(
            sql: """
                UPDATE commands SET status = 'succeeded', result = ?, error = NULL, updated_at = ?, finished_at = ?
                WHERE tenant_id = ? AND id = ? AND status IN ('accepted', 'processing')
                """
        ).execute(arguments: [
            completion.result.jsonText, at, at, completion.tenantID.description,
            completion.commandID.lowercasedString,
        ])
        guard db.changesCount == 1 else {
            throw StoreError(.staleVersion, "The command has already ended; its change is not applied again.")
        }
    }

    static func find(tenant: TenantID, id: UUID, in db: Database) throws -> Command? {
        try Row.fetchOne(
            try db.cachedStatement(sql: "SELECT \(Self.columns) FROM commands WHERE tenant_id = ? AND id = ?"),
            arguments: [tenant.description, id.lowercasedString]
        ).map(Self.command)
    }

    static let columns = """
        id, tenant_id, action, data, request_id, correlation_id, client_id, user_id, status, result, error, run_id,
        attempts, principal, created_at, updated_at, finished_at
        """

    static func arguments(_ command: Command) -> StatementArguments {
        [
            command.id.lowercasedString, command.tenantID.description, command.action.rawValue, command.data.jsonText,
            command.requestID, command.correlationID, command.clientID, command.userID, command.status.rawValue,
            command.result?.jsonText, command.error?.jsonText, command.runID.lowercasedString, command.attempts,
            command.principal.snapshot.jsonText, command.createdAt.microsecondsSinceEpoch,
            command.updatedAt.microsecondsSinceEpoch, command.finishedAt?.microsecondsSinceEpoch,
        ]
    }

    static func command(_ row: Row) throws -> Command {
        guard let id = UUID(canonical: row[0]), let tenant = TenantID(uuidString: row[1]),
            let action = CommandAction(rawValue: row[2]), let data = JSONValue(parsing: row[3] as String),
            let status = CommandStatus(rawValue: row[8]), let run = UUID(canonical: row[11]),
            let principal = JSONValue(parsing: row[13] as String).flatMap(Principal.init(snapshot:))
        else { throw StoreError(.corruptData, "A stored command could not be decoded.") }
        return Command(
            id: id, tenantID: tenant, action: action, data: data, requestID: row[4], correlationID: row[5],
            clientID: row[6], userID: row[7], status: status,
            result: (row[9] as String?).flatMap { JSONValue(parsing: $0) },
            error: (row[10] as String?).flatMap { JSONValue(parsing: $0) }, runID: run, attempts: row[12],
            principal: principal, createdAt: Timestamp(microsecondsSinceEpoch: row[14]),
            updatedAt: Timestamp(microsecondsSinceEpoch: row[15]),
            finishedAt: (row[16] as Int64?).map(Timestamp.init(microsecondsSinceEpoch:)))
    }
}
