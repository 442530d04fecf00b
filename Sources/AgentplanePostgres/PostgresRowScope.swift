import AgentplaneCore
import Logging
import PostgresNIO

/// Which rows a transaction may see under row-level security: one tenant's, or every tenant's for the
/// few platform-wide operations (key lookup by prefix, tenant listing, the platform audit view).
enum RowScope: Sendable {
    case tenant(TenantID)
    case platformWide

    /// The value of `app.tenant_id` the policies compare against.
    var setting: String {
        switch self {
        case .tenant(let tenant): tenant.description
        case .platformWide: "*"
        }
    }
}

extension PostgresClient {
    /// Runs `body` in a transaction whose `app.tenant_id` is set (SET LOCAL) to `scope`: the row-level
    /// security policies then hide every other tenant's rows, even from a query that forgot its filter.
    func withTenantTransaction<Result: Sendable>(
        _ scope: RowScope,
        logger: Logger,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await withGuardedTransaction(logger: logger) { connection in
            try await connection.guardedQuery(
                "SELECT set_config('app.tenant_id', \(scope.setting), true)", logger: logger)
            return try await body(connection)
        }
    }

    /// Runs one read-only statement under `scope` in ONE round trip (no BEGIN, SET, COMMIT).
    ///
    /// The statement runs in its own implicit transaction, wrapped so that a one-row subquery sets
    /// `app.tenant_id` (local to that transaction) and `sql` runs as a LATERAL subquery that depends on
    /// it: the planner must produce the setting before it can run `sql`, so every row-level security
    /// check in `sql` sees it. Were that order ever not kept, the policies would see no tenant and
    /// return nothing (fail closed), never another tenant's rows. `sql` uses `$1…$n` for `binds`; rows
    /// come back in `sql`'s own order (a single outer row, a nested loop).
    func withScopedRead<Result: Sendable>(
        _ scope: RowScope,
        sql: String,
        binds: PostgresBindings,
        logger: Logger,
        _ consume: (PostgresRowSequence) async throws -> Result
    ) async throws -> Result {
        var binds = binds
        binds.append(scope.setting)
        let wrapped = """
            SELECT ap_read.* FROM (SELECT set_config('app.tenant_id', $\(binds.count), true) AS ap_tenant) ap_scope
            CROSS JOIN LATERAL (
                SELECT * FROM (\(sql)) ap_inner WHERE ap_scope.ap_tenant IS NOT NULL OFFSET 0
            ) ap_read
            """
        return try await withConnection { connection in
            let rows = try await connection.guardedQuery(
                PostgresQuery(unsafeSQL: wrapped, binds: binds), logger: logger)
            return try await consume(rows)
        }
    }
}
