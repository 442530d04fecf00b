import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import PostgresNIO

/// Instances' gateway activations on PostgreSQL. `save` is one conditional upsert: of two concurrent
/// activations, the second finds the row already active (after the first's commit) and writes nothing.
struct PostgresInstanceActivationStore: InstanceActivationStore {
    let client: PostgresClient
    let logger: Logger

    static let columns = """
        instance_id AS a_instance_id, tenant_id AS a_tenant_id, active AS a_active,
        ap_micros(activated_at) AS a_activated_at, activated_by AS a_activated_by,
        ap_micros(deactivated_at) AS a_deactivated_at
        """

    func find(tenant: TenantID, instance: UUID) async throws -> InstanceActivation? {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        binds.append(instance)
        return try await PostgresErrors.translating {
            try await client.withScopedRead(
                .tenant(tenant),
                sql: "SELECT \(Self.columns) FROM instance_activations WHERE tenant_id = $1 AND instance_id = $2",
                binds: binds, logger: logger
            ) { rows in
                for try await row in rows { return try Self.activation(row.makeRandomAccess()) }
                return nil
            }
        }
    }

    func save(_ activation: InstanceActivation, record: ChangeRecord) async throws -> Bool {
        let tenant = activation.tenantID
        let activated = activation.activatedAt?.microsecondsSinceEpoch
        let deactivated = activation.deactivatedAt?.microsecondsSinceEpoch
        let now = record.audit.occurredAt.microsecondsSinceEpoch
        return try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(tenant), logger: logger) { connection in
                guard
                    try await PostgresRows.exists(
                        on: connection, table: "instances", id: activation.instanceID, tenant: tenant, logger: logger)
                else { throw StoreError(.notFound, "No such instance.") }
                // Activating inserts or flips an inactive row; deactivating flips an active one. Either writes
                // nothing when the row already says so.
                let query: PostgresQuery =
                    activation.active
                    ? """
                    INSERT INTO instance_activations (instance_id, tenant_id, active, activated_at, activated_by,
                        deactivated_at, updated_at)
                    VALUES (\(activation.instanceID), \(tenant.rawValue), true, ap_ts(\(activated)),
                        \(activation.activatedBy), ap_ts(\(deactivated)), ap_ts(\(now)))
                    ON CONFLICT (instance_id) DO UPDATE SET active = true, activated_at = excluded.activated_at,
                        activated_by = excluded.activated_by, deactivated_at = excluded.deactivated_at,
                        updated_at = excluded.updated_at
                    WHERE NOT instance_activations.active
                    RETURNING instance_id
                    """
                    : """
                    UPDATE instance_activations SET active = false, activated_at = ap_ts(\(activated)),
                        activated_by = \(activation.activatedBy), deactivated_at = ap_ts(\(deactivated)),
                        updated_at = ap_ts(\(now))
                    WHERE tenant_id = \(tenant.rawValue) AND instance_id = \(activation.instanceID) AND active
                    RETURNING instance_id
                    """
                var written = false
                for try await _ in try await connection.guardedQuery(query, logger: logger) { written = true }
                guard written else { return false }
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
                return true
            }
        }
    }

    func listActive(after: UUID?, limit: Int) async throws -> [ActiveInstance] {
        var binds = PostgresBindings()
        binds.append(after)
        binds.append(limit)
        // The instance's columns read from the join's own (unprefixed) names, as the instance store reads them.
        let sql = """
            SELECT \(PostgresInstanceStore.columns), a_instance_id, a_tenant_id, a_active, a_activated_at,
                a_activated_by, a_deactivated_at
            FROM (
                SELECT i.*, \(Self.prefixed)
                FROM instance_activations a JOIN instances i ON i.id = a.instance_id
                WHERE a.active AND ($1::uuid IS NULL OR a.instance_id > $1)
                ORDER BY a.instance_id LIMIT $2
            ) joined
            ORDER BY id
            """
        return try await PostgresErrors.translating {
            try await client.withScopedRead(.platformWide, sql: sql, binds: binds, logger: logger) { rows in
                var found: [ActiveInstance] = []
                for try await row in rows {
                    let row = row.makeRandomAccess()
                    found.append(
                        ActiveInstance(
                            activation: try Self.activation(row), instance: try PostgresInstanceStore.instance(row)))
                }
                return found
            }
        }
    }

    /// `columns` on the join's `a`.
    static var prefixed: String {
        """
        a.instance_id AS a_instance_id, a.tenant_id AS a_tenant_id, a.active AS a_active,
        ap_micros(a.activated_at) AS a_activated_at, a.activated_by AS a_activated_by,
        ap_micros(a.deactivated_at) AS a_deactivated_at
        """
    }

    static func activation(_ row: PostgresRandomAccessRow) throws -> InstanceActivation {
        InstanceActivation(
            tenantID: TenantID(try row["a_tenant_id"].decode(UUID.self)),
            instanceID: try row["a_instance_id"].decode(UUID.self),
            active: try row["a_active"].decode(Bool.self),
            activatedAt: try row["a_activated_at"].decode(Int64?.self).map(Timestamp.init(microsecondsSinceEpoch:)),
            activatedBy: try row["a_activated_by"].decode(String?.self),
            deactivatedAt: try row["a_deactivated_at"].decode(Int64?.self).map(
                Timestamp.init(microsecondsSinceEpoch:)))
    }
}
