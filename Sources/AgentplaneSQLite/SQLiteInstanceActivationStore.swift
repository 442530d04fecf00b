import AgentplaneCore
import AgentplaneStore
import Foundation
import GRDB

/// Instances' gateway activations on SQLite: the single writer makes the read-then-write of `save` atomic.
struct SQLiteInstanceActivationStore: InstanceActivationStore {
    let pool: DatabasePool

    static let columns = "instance_id, tenant_id, active, activated_at, activated_by, deactivated_at"

    func find(tenant: TenantID, instance: UUID) async throws -> InstanceActivation? {
        try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchOne(
                    try db.cachedStatement(
                        sql: "SELECT \(Self.columns) FROM instance_activations WHERE tenant_id = ? AND instance_id = ?"),
                    arguments: [tenant.description, instance.lowercasedString]
                ).map { try Self.activation($0, from: 0) }
            }
        }
    }

    func save(_ activation: InstanceActivation, record: ChangeRecord) async throws -> Bool {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                let tenant = activation.tenantID.description
                let instance = activation.instanceID.lowercasedString
                guard
                    try SQLiteRows.exists(
                        db, table: "instances", id: activation.instanceID, tenant: activation.tenantID)
                else { throw StoreError(.notFound, "No such instance.") }
                let stored = try Bool.fetchOne(
                    db, sql: "SELECT active FROM instance_activations WHERE tenant_id = ? AND instance_id = ?",
                    arguments: [tenant, instance])
                if stored == activation.active || (stored == nil && !activation.active) { return false }
                try db.cachedStatement(
                    sql: """
                        INSERT INTO instance_activations (instance_id, tenant_id, active, activated_at, activated_by,
                            deactivated_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (instance_id) DO UPDATE SET active = excluded.active,
                            activated_at = excluded.activated_at, activated_by = excluded.activated_by,
                            deactivated_at = excluded.deactivated_at, updated_at = excluded.updated_at
                        """
                ).execute(
                    arguments: [
                        instance, tenant, activation.active, activation.activatedAt?.microsecondsSinceEpoch,
                        activation.activatedBy, activation.deactivatedAt?.microsecondsSinceEpoch,
                        record.audit.occurredAt.microsecondsSinceEpoch,
                    ]
                )
                try SQLiteChangeRecorder.record(record, in: db)
                return true
            }
        }
    }

    func listActive(after: UUID?, limit: Int) async throws -> [ActiveInstance] {
        let instanceColumns = SQLiteInstanceStore.columns.split(separator: ",")
            .map { "i." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", ")
        let activationColumns = Self.columns.split(separator: ",")
            .map { "a." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")
        return try await SQLiteErrors.translating {
            try await pool.read { db in
                try Row.fetchAll(
                    try db.cachedStatement(
                        sql: """
                            SELECT \(instanceColumns), \(activationColumns)
                            FROM instance_activations a JOIN instances i ON i.id = a.instance_id
                            WHERE a.active = 1 AND a.instance_id > ? ORDER BY a.instance_id LIMIT ?
                            """),
                    arguments: [after?.lowercasedString ?? "", limit]
                ).map { row in
                    ActiveInstance(
                        activation: try Self.activation(row, from: 14), instance: try SQLiteInstanceStore.instance(row))
                }
            }
        }
    }

    /// The activation in `row`'s columns from `start` on, in the order of `columns`.
    static func activation(_ row: Row, from start: Int) throws -> InstanceActivation {
        guard let instance = UUID(canonical: row[start]), let tenant = TenantID(uuidString: row[start + 1]) else {
            throw StoreError(.corruptData, "A stored activation could not be decoded.")
        }
        return InstanceActivation(
            tenantID: tenant, instanceID: instance, active: row[start + 2],
            activatedAt: (row[start + 3] as Int64?).map(Timestamp.init(microsecondsSinceEpoch:)),
            activatedBy: row[start + 4],
            deactivatedAt: (row[start + 5] as Int64?).map(Timestamp.init(microsecondsSinceEpoch:)))
    }
}
