import AgentplaneCore
import AgentplaneStore
import Logging
import PostgresNIO

/// The per-tenant quota counters (`tenant_usage`), kept exact by conditional updates.
///
/// A create increments its counter as the LAST statement of its transaction, and only while the counter
/// is below the quota: the row lock that makes concurrent creates exact is then held just until the
/// commit, never across the request.
enum PostgresTenantUsage {
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
    static func reserve(
        _ counter: Counter,
        tenant: TenantID,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        let column = counter.rawValue
        let quota = counter.quotaColumn
        // The second SELECT only answers when nothing was reserved: the quota, for the error.
        let rows = try await connection.guardedQuery(
            PostgresQuery(
                unsafeSQL: """
                    WITH reserved AS (
                        INSERT INTO tenant_usage (tenant_id, \(column))
                        SELECT id, 1 FROM tenants WHERE id = $1 AND \(quota) > 0
                        ON CONFLICT (tenant_id) DO UPDATE SET \(column) = tenant_usage.\(column) + 1
                        WHERE tenant_usage.\(column) < (SELECT \(quota) FROM tenants WHERE id = $1)
                        RETURNING \(column)
                    )
                    SELECT true AS reserved, 0 AS quota FROM reserved
                    UNION ALL
                    SELECT false, \(quota) FROM tenants WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM reserved)
                    """,
                binds: binds
            ),
            logger: logger
        )
        var limit: Int?
        for try await (reserved, quota) in rows.decode((Bool, Int).self) {
            if reserved { return }
            limit = quota
        }
        guard let limit else { throw StoreError(.notFound, "No such tenant.") }
        throw StoreError(.quotaExceeded(limit: limit), quotaMessage(counter))
    }

    /// Gives back `count` units of `counter` (a delete, in the deleting transaction).
    static func release(
        _ counter: Counter,
        count: Int,
        tenant: TenantID,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        guard count > 0 else { return }
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(Int64(count))
        let column = counter.rawValue
        try await connection.guardedQuery(
            PostgresQuery(
                unsafeSQL: """
                    UPDATE tenant_usage SET \(column) = greatest(\(column) - $2, 0) WHERE tenant_id = $1
                    """,
                binds: binds
            ),
            logger: logger
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
