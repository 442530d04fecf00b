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
        case tasks

        /// The `tenants` column holding the quota.
        var quotaColumn: String {
            switch self {
            case .instances: "max_instances"
            case .kbEntries: "max_kb_entries"
            case .tasks: "max_tasks"
            }
        }
    }

    /// Takes one unit of `counter` unless the tenant's quota of it (its `tenants` row, read in the same
    /// statement) is used up; throws `quotaExceeded` then, `notFound` without such a tenant.
    static func reserve(_ counter: Counter, tenant: TenantID, in db: Database) throws {
        let column = counter.rawValue
        let quota = counter.quotaColumn
        let reserved = try Int64.fetchOne(
            try db.cachedStatement(
                sql: """
                    INSERT INTO tenant_usage (tenant_id, \(column)) SELECT id, 1 FROM tenants WHERE id = ? AND \(quota) > 0
                    ON CONFLICT (tenant_id) DO UPDATE SET \(column) = \(column) + 1
                        WHERE \(column) < (SELECT \(quota) FROM tenants WHERE id = excluded.tenant_id)
                    RETURNING \(column)
                    """),
            arguments: [tenant.description]
        )
        guard reserved == nil else { return }
        guard
            let limit = try Int.fetchOne(
                try db.cachedStatement(sql: "SELECT \(quota) FROM tenants WHERE id = ?"),
                arguments: [tenant.description])
        else { throw StoreError(.notFound, "No such tenant.") }
        throw StoreError(.quotaExceeded(limit: limit), quotaMessage(counter))
    }

    /// Gives back `count` units of `counter` (a delete, in the deleting transaction).
    static func release(_ counter: Counter, count: Int, tenant: TenantID, in db: Database) throws {
        guard count > 0 else { return }
        let column = counter.rawValue
        try db.cachedStatement(
            sql: "UPDATE tenant_usage SET \(column) = max(\(column) - ?, 0) WHERE tenant_id = ?"
        ).execute(
            arguments: [count, tenant.description]
        )
    }

    static func quotaMessage(_ counter: Counter) -> String {
        switch counter {
        case .instances: "The tenant's instance quota is used up."
        case .kbEntries: "The tenant's knowledge-base quota is used up."
        case .tasks: "The tenant's task quota is used up."
        }
    }
}
