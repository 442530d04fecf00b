import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import PostgresNIO

/// Tenants on PostgreSQL.
struct PostgresTenantStore: TenantStore {
    let client: PostgresClient
    let logger: Logger

    static let columns = """
        id, slug, name, status, max_instances, max_tasks, max_kb_entries, requests_per_minute, version,
        ap_micros(created_at) AS created_at, ap_micros(updated_at) AS updated_at
        """

    func create(_ tenant: Tenant, record: ChangeRecord) async throws {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(tenant.id), logger: logger) { connection in
                try await connection.guardedQuery(
                    """
                    INSERT INTO tenants (id, slug, name, status, max_instances, max_tasks, max_kb_entries,
                        requests_per_minute, version, created_at, updated_at)
                    VALUES (\(tenant.id.rawValue), \(tenant.slug), \(tenant.name), \(tenant.status.rawValue),
                        \(tenant.quotas.maxInstances), \(tenant.quotas.maxTasks), \(tenant.quotas.maxKnowledgeBaseEntries),
                        \(tenant.quotas.requestsPerMinute), \(tenant.version),
                        ap_ts(\(tenant.createdAt.microsecondsSinceEpoch)), ap_ts(\(tenant.updatedAt.microsecondsSinceEpoch)))
                    """,
                    logger: logger
                )
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
            }
        }
    }

    func find(id: TenantID) async throws -> Tenant? {
        try await PostgresErrors.translating {
            try await client.withScopedRead(
                .tenant(id),
                sql: "SELECT \(Self.columns) FROM tenants WHERE id = $1 AND deleted_at IS NULL",
                binds: Self.binds(id.rawValue),
                logger: logger
            ) { rows in
                for try await row in rows { return try Self.tenant(row.makeRandomAccess()) }
                return nil
            }
        }
    }

    func find(slug: String) async throws -> Tenant? {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                var binds = PostgresBindings()
                binds.append(slug)
                let rows = try await connection.guardedQuery(
                    PostgresQuery(
                        unsafeSQL: "SELECT \(Self.columns) FROM tenants WHERE slug = $1 AND deleted_at IS NULL",
                        binds: binds
                    ),
                    logger: logger
                )
                for try await row in rows { return try Self.tenant(row.makeRandomAccess()) }
                return nil
            }
        }
    }

    func list(after: TenantID?, limit: Int) async throws -> [Tenant] {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                var binds = PostgresBindings()
                binds.append(after?.rawValue)
                binds.append(limit)
                let rows = try await connection.guardedQuery(
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT \(Self.columns) FROM tenants
                            WHERE deleted_at IS NULL AND ($1::uuid IS NULL OR id > $1) ORDER BY id LIMIT $2
                            """,
                        binds: binds
                    ),
                    logger: logger
                )
                var tenants: [Tenant] = []
                for try await row in rows { tenants.append(try Self.tenant(row.makeRandomAccess())) }
                return tenants
            }
        }
    }

    func update(_ tenant: Tenant, expectedVersion: Int64, record: ChangeRecord) async throws -> Tenant {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(tenant.id), logger: logger) { connection in
                var binds = PostgresBindings()
                binds.append(tenant.name)
                binds.append(tenant.status.rawValue)
                binds.append(tenant.quotas.maxInstances)
                binds.append(tenant.quotas.maxTasks)
                binds.append(tenant.quotas.maxKnowledgeBaseEntries)
                binds.append(tenant.quotas.requestsPerMinute)
                binds.append(tenant.updatedAt.microsecondsSinceEpoch)
                binds.append(tenant.id.rawValue)
                binds.append(expectedVersion)
                let rows = try await connection.guardedQuery(
                    PostgresQuery(
                        unsafeSQL: """
                            UPDATE tenants SET name = $1, status = $2, max_instances = $3, max_tasks = $4,
                                max_kb_entries = $5, requests_per_minute = $6, version = version + 1, updated_at = ap_ts($7)
                            WHERE id = $8 AND deleted_at IS NULL AND version = $9
                            RETURNING \(Self.columns)
                            """,
                        binds: binds
                    ),
                    logger: logger
                )
                var updated: Tenant?
                for try await row in rows { updated = try Self.tenant(row.makeRandomAccess()) }
                guard let updated else {
                    let exists = try await PostgresRows.exists(
                        on: connection, table: "tenants", id: tenant.id.rawValue, liveOnly: true, logger: logger)
                    throw StoreError.conditionalWriteMissed("tenant", rowExists: exists)
                }
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
                return updated
            }
        }
    }

    func delete(id: TenantID, at time: Timestamp, record: ChangeRecord) async throws {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(id), logger: logger) { connection in
                var deleted = false
                for try await _ in try await connection.guardedQuery(
                    """
                    UPDATE tenants SET deleted_at = ap_ts(\(time.microsecondsSinceEpoch)), version = version + 1
                    WHERE id = \(id.rawValue) AND deleted_at IS NULL RETURNING id
                    """,
                    logger: logger
                ) {
                    deleted = true
                }
                guard deleted else { throw StoreError(.notFound, "No such tenant.") }
                try await connection.guardedQuery(
                    """
                    UPDATE api_keys SET revoked_at = ap_ts(\(time.microsecondsSinceEpoch))
                    WHERE tenant_id = \(id.rawValue) AND revoked_at IS NULL
                    """,
                    logger: logger
                )
                try await PostgresChangeRecorder.record(record, on: connection, logger: logger)
            }
        }
    }

    static func binds(_ value: UUID) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(value)
        return binds
    }

    static func tenant(_ row: PostgresRandomAccessRow) throws -> Tenant {
        guard let status = TenantStatus(rawValue: try row["status"].decode(String.self)) else {
            throw StoreError(.corruptData, "A stored tenant could not be decoded.")
        }
        return Tenant(
            id: TenantID(try row["id"].decode(UUID.self)),
            slug: try row["slug"].decode(String.self),
            name: try row["name"].decode(String.self),
            status: status,
            quotas: TenantQuotas(
                maxInstances: try row["max_instances"].decode(Int.self),
                maxTasks: try row["max_tasks"].decode(Int.self),
                maxKnowledgeBaseEntries: try row["max_kb_entries"].decode(Int.self),
                requestsPerMinute: try row["requests_per_minute"].decode(Int.self)
            ),
            version: try row["version"].decode(Int64.self),
            createdAt: Timestamp(microsecondsSinceEpoch: try row["created_at"].decode(Int64.self)),
            updatedAt: Timestamp(microsecondsSinceEpoch: try row["updated_at"].decode(Int64.self))
        )
    }
}
