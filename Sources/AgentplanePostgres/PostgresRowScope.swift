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
        try await withTransaction(logger: logger) { connection in
            try await connection.query("SELECT set_config('app.tenant_id', \(scope.setting), true)", logger: logger)
            return try await body(connection)
        }
    }
}
