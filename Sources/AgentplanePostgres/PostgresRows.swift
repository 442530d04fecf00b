import AgentplaneCore
import Foundation
import Logging
import PostgresNIO

/// Row checks the stores share.
enum PostgresRows {
    /// Whether the row `id` of `table` exists (in `tenant`, and not soft-deleted when `liveOnly`).
    /// `table` is one of the store's own table names, never client input.
    static func exists(
        on connection: PostgresConnection,
        table: String,
        id: UUID,
        tenant: TenantID? = nil,
        liveOnly: Bool = false,
        logger: Logger
    ) async throws -> Bool {
        var binds = PostgresBindings()
        binds.append(id)
        var sql = "SELECT EXISTS (SELECT 1 FROM \(table) WHERE id = $1"
        if let tenant {
            binds.append(tenant.rawValue)
            sql += " AND tenant_id = $2"
        }
        if liveOnly { sql += " AND deleted_at IS NULL" }
        let rows = try await connection.guardedQuery(
            PostgresQuery(unsafeSQL: sql + ")", binds: binds),
            logger: logger
        )
        for try await exists in rows.decode(Bool.self) { return exists }
        return false
    }
}
