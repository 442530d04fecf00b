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
    }

    /// Takes one unit of `counter` unless `limit` are already in use; throws `quotaExceeded` then.
    static func reserve(
        _ counter: Counter,
        limit: Int,
        tenant: TenantID,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        let exceeded = StoreError(.quotaExceeded(limit: limit), quotaMessage(counter))
        guard limit > 0 else { throw exceeded }
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(Int64(limit))
        let column = counter.rawValue
        let rows = try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO tenant_usage (tenant_id, \(column)) VALUES ($1, 1)
                    ON CONFLICT (tenant_id) DO UPDATE SET \(column) = tenant_usage.\(column) + 1
                    WHERE tenant_usage.\(column) < $2
                    RETURNING \(column)
                    """,
                binds: binds
            ),
            logger: logger
        )
        var reserved = false
        for try await _ in rows { reserved = true }
        guard reserved else { throw exceeded }
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
        try await connection.query(
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
        }
    }
}
