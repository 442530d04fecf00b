import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import PostgresNIO

/// Commands on PostgreSQL.
struct PostgresCommandStore: CommandStore {
    let client: PostgresClient
    let logger: Logger
    /// Rung after a commit that enqueued a processing run (workers on this node claim it at once).
    let wake: @Sendable () -> Void

    func submit(_ command: Command, record: ChangeRecord) async throws -> (command: Command, created: Bool) {
        let stored: (command: Command, created: Bool) = try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(command.tenantID), logger: logger) { connection in
                var inserted = false
                // A concurrent duplicate waits here for the first one's commit, then inserts nothing.
                for try await _ in try await connection.guardedQuery(
                    """
                    INSERT INTO commands (id, tenant_id, action, data, request_id, correlation_id, client_id, user_id,
                        status, result, error, run_id, attempts, principal, created_at, updated_at, finished_at)
                    VALUES (\(command.id), \(command.tenantID.rawValue), \(command.action.rawValue),
                        \(command.data.jsonText)::jsonb, \(command.requestID), \(command.correlationID),
                        \(command.clientID), \(command.userID), \(command.status.rawValue), NULL, NULL, \(command.runID),
                        \(command.attempts), \(command.principal.snapshot.jsonText)::jsonb,
                        ap_ts(\(command.createdAt.microsecondsSinceEpoch)), ap_ts(\(command.updatedAt.microsecondsSinceEpoch)),
                        NULL)
                    ON CONFLICT (tenant_id, request_id) DO NOTHING
                    RETURNING id
                    """,
                    logger: logger
                ) {
                    inserted = true
                }
                guard inserted else {
                    var binds = PostgresBindings()
                    binds.append(command.tenantID.rawValue)
                    binds.append(command.requestID)
                    let rows = try await connection.guardedQuery(
                        PostgresQuery(
                            unsafeSQL: Self.select + " WHERE tenant_id = $1 AND request_id = $2", binds: binds),
                        logger: logger)
                    for try await row in rows { return (try Self.command(row.makeRandomAccess()), false) }
                    throw StoreError(.other, "The command could not be stored.")
                }
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
                return (command, true)
            }
        }
        if stored.created { wake() }
        return stored
    }

    func find(tenant: TenantID, id: UUID) async throws -> Command? {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(id)
        return try await read(tenant, " WHERE tenant_id = $1 AND id = $2", binds).first
    }

    func list(tenant: TenantID, query: CommandQuery) async throws -> [Command] {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(query.status?.rawValue)
        binds.append(query.action?.rawValue)
        binds.append(query.before)
        binds.append(query.limit)
        return try await read(
            tenant,
            """
             WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR action = $3)
                AND ($4::uuid IS NULL OR id < $4)
            ORDER BY id DESC LIMIT $5
            """, binds)
    }

    func begin(tenant: TenantID, id: UUID, at now: Timestamp) async throws -> Command? {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(tenant), logger: logger) { connection in
                try await connection.guardedQuery(
                    """
                    UPDATE commands SET status = 'processing', attempts = attempts + 1,
                        updated_at = ap_ts(\(now.microsecondsSinceEpoch))
                    WHERE tenant_id = \(tenant.rawValue) AND id = \(id) AND status IN ('accepted', 'processing')
                    """,
                    logger: logger)
                var binds = PostgresBindings()
                binds.append(tenant.rawValue)
                binds.append(id)
                let rows = try await connection.guardedQuery(
                    PostgresQuery(unsafeSQL: Self.select + " WHERE tenant_id = $1 AND id = $2", binds: binds),
                    logger: logger)
                for try await row in rows { return try Self.command(row.makeRandomAccess()) }
                return nil
            }
        }
    }

    func fail(tenant: TenantID, id: UUID, error: JSONValue, at now: Timestamp, record: ChangeRecord) async throws
        -> Bool
    {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(tenant), logger: logger) { connection in
                var updated = false
                for try await _ in try await connection.guardedQuery(
                    """
                    UPDATE commands SET status = 'dead', error = \(error.jsonText)::jsonb,
                        updated_at = ap_ts(\(now.microsecondsSinceEpoch)), finished_at = ap_ts(\(now.microsecondsSinceEpoch))
                    WHERE tenant_id = \(tenant.rawValue) AND id = \(id) AND status IN ('accepted', 'processing')
                    RETURNING id
                    """,
                    logger: logger
                ) {
                    updated = true
                }
                guard updated else { return false }
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
                return true
            }
        }
    }

    func replay(tenant: TenantID, id: UUID, run: UUID, at now: Timestamp, record: ChangeRecord) async throws {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(tenant), logger: logger) { connection in
                var updated = false
                for try await _ in try await connection.guardedQuery(
                    """
                    UPDATE commands SET status = 'accepted', error = NULL, finished_at = NULL, run_id = \(run),
                        updated_at = ap_ts(\(now.microsecondsSinceEpoch))
                    WHERE tenant_id = \(tenant.rawValue) AND id = \(id) AND status = 'dead'
                    RETURNING id
                    """,
                    logger: logger
                ) {
                    updated = true
                }
                guard updated else {
                    let exists = try await PostgresRows.exists(
                        on: connection, table: "commands", id: id, tenant: tenant, logger: logger)
                    throw StoreError.conditionalWriteMissed("command", rowExists: exists)
                }
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
            }
        }
        wake()
    }

    /// Completes a command inside the transaction of the change it caused; a command that has already
    /// ended fails the transaction (the change is not applied twice).
    static func complete(_ completion: CommandCompletion, on connection: PostgresConnection, logger: Logger)
        async throws
    {
        let at = completion.finishedAt.microsecondsSinceEpoch
        var updated = false
        for try await _ in try await connection.guardedQuery(
            """
            UPDATE commands SET status = 'succeeded', result = \(completion.result.jsonText)::jsonb, error = NULL,
                updated_at = ap_ts(\(at)), finished_at = ap_ts(\(at))
            WHERE tenant_id = \(completion.tenantID.rawValue) AND id = \(completion.commandID)
                AND status IN ('accepted', 'processing')
            RETURNING id
            """,
            logger: logger
        ) {
            updated = true
        }
        guard updated else {
            throw StoreError(.staleVersion, "The command has already ended; its change is not applied again.")
        }
    }

    private static let select = """
        SELECT id, tenant_id, action, data::text AS data, request_id, correlation_id, client_id, user_id, status,
            result::text AS result, error::text AS error, run_id, attempts, principal::text AS principal,
            ap_micros(created_at) AS created_at, ap_micros(updated_at) AS updated_at,
            ap_micros(finished_at) AS finished_at
        FROM commands
        """

    private func read(_ tenant: TenantID, _ condition: String, _ binds: PostgresBindings) async throws -> [Command] {
        try await PostgresErrors.translating {
            try await client.withScopedRead(
                .tenant(tenant), sql: Self.select + condition, binds: binds, logger: logger
            ) { rows in
                var commands: [Command] = []
                for try await row in rows { commands.append(try Self.command(row.makeRandomAccess())) }
                return commands
            }
        }
    }

    static func command(_ row: PostgresRandomAccessRow) throws -> Command {
        guard let action = CommandAction(rawValue: try row["action"].decode(String.self)),
            let data = JSONValue(parsing: try row["data"].decode(String.self)),
            let status = CommandStatus(rawValue: try row["status"].decode(String.self)),
            let principal = JSONValue(parsing: try row["principal"].decode(String.self)).flatMap(
                Principal.init(snapshot:))
        else { throw StoreError(.corruptData, "A stored command could not be decoded.") }
        return Command(
            id: try row["id"].decode(UUID.self), tenantID: TenantID(try row["tenant_id"].decode(UUID.self)),
            action: action, data: data, requestID: try row["request_id"].decode(String.self),
            correlationID: try row["correlation_id"].decode(String.self),
            clientID: try row["client_id"].decode(String.self), userID: try row["user_id"].decode(String?.self),
            status: status, result: try row["result"].decode(String?.self).flatMap { JSONValue(parsing: $0) },
            error: try row["error"].decode(String?.self).flatMap { JSONValue(parsing: $0) },
            runID: try row["run_id"].decode(UUID.self), attempts: try row["attempts"].decode(Int.self),
            principal: principal,
            createdAt: Timestamp(microsecondsSinceEpoch: try row["created_at"].decode(Int64.self)),
            updatedAt: Timestamp(microsecondsSinceEpoch: try row["updated_at"].decode(Int64.self)),
            finishedAt: try row["finished_at"].decode(Int64?.self).map(Timestamp.init(microsecondsSinceEpoch:)))
    }
}
