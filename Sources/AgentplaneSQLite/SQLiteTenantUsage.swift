import AgentplaneCore
import AgentplaneStore
import GRDB

/// The per-tenant quota counters (`tenant_usage`): a conditional increment instead of counting rows
/// (the single writer makes it exact; the counter makes it cheap with 10,000 entries).
enum SQLiteTenantUsage {
    /// A counted resource; the raw value is the column name.
    enum Counter: String {
        case instances
        case kbEntries = "kb_entries"
    }

    /// Takes one unit of `counter` unless `limit` are already in use; throws `quotaExceeded` then.
    static func reserve(_ counter: Counter, limit: Int, tenant: TenantID, in db: Database) throws {
        let exceeded = StoreError(.quotaExceeded(limit: limit), quotaMessage(counter))
        guard limit > 0 else { throw exceeded }
        let column = counter.rawValue
        let reserved = try Int64.fetchOne(
            db,
            sql: """
                INSERT INTO tenant_usage (tenant_id, \(column)) VALUES (?, 1)
                ON CONFLICT (tenant_id) DO UPDATE SET \(column) = \(column) + 1 WHERE \(column) < ?
                RETURNING \(column)
                """,
            arguments: [tenant.description, limit]
        )
        guard reserved != nil else { throw exceeded }
    }

    /// Gives back `count` units of `counter` (a delete, in the deleting transaction).
    static func release(_ counter: Counter, count: Int, tenant: TenantID, in db: Database) throws {
        guard count > 0 else { return }
        let column = counter.rawValue
        try db.execute(
            sql: "UPDATE tenant_usage SET \(column) = max(\(column) - ?, 0) WHERE tenant_id = ?",
            arguments: [count, tenant.description]
        )
    }

    static func quotaMessage(_ counter: Counter) -> String {
        switch counter {
        case .instances: "The tenant's instance quota is used up."
        case .kbEntries: "The tenant's knowledge-base quota is used up."
        }
    }
}
