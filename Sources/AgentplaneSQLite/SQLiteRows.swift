import AgentplaneCore
import Foundation
import GRDB

/// Row checks the stores share.
enum SQLiteRows {
    /// Whether the row `id` of `table` exists (in `tenant`, and not soft-deleted when `liveOnly`).
    /// `table` is one of the store's own table names, never client input.
    static func exists(_ db: Database, table: String, id: UUID, tenant: TenantID? = nil, liveOnly: Bool = false) throws
        -> Bool
    {
        var sql = "SELECT EXISTS (SELECT 1 FROM \(table) WHERE id = ?"
        var arguments: StatementArguments = [id.lowercasedString]
        if let tenant {
            sql += " AND tenant_id = ?"
            arguments += [tenant.description]
        }
        if liveOnly { sql += " AND deleted_at IS NULL" }
        return try Bool.fetchOne(try db.cachedStatement(sql: sql + ")"), arguments: arguments) ?? false
    }
}
