import AgentplaneCore
import AgentplaneStore
import AgentplaneTesting
import PostgresNIO
import Testing

/// PostgreSQL only, adding to the conformance suite: row-level security backs up the application's
/// tenant filters. A query that forgets its `WHERE tenant_id = …` still sees one tenant only.
@Suite struct PostgresRowLevelSecurityTests {
    @Test func queriesWithoutTheTenantFilterSeeOnlyTheirTenant() async throws {
        try await withIsolatedDatabase(.postgres) { database in
            let store = try database.openStore()
            let (a, b) = (Fixtures.tenant(), Fixtures.tenant())
            try await withRunningStore(store) { store in
                _ = try await store.migrate()
                #expect(store.capabilities.rowLevelSecurity)
                _ = try await store.events.append([Fixtures.event(), Fixtures.event()], tenant: a)
                _ = try await store.events.append([Fixtures.event(), Fixtures.event(), Fixtures.event()], tenant: b)
            }
            let logger = testLogger()
            try await PostgresAdmin.withConnection(url: try #require(database.postgresURL)) { connection in
                var isSuperuser = true
                for try await value in try await connection.query(
                    "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user",
                    logger: logger
                ).decode(Bool.self) {
                    isSuperuser = value
                }
                try #require(!isSuperuser, "the test role must not bypass RLS (use the role scripts/test creates)")

                func count(_ sql: String, tenant: String?) async throws -> Int {
                    try await connection.query("BEGIN", logger: logger)
                    if let tenant {
                        try await connection.query(
                            "SELECT set_config('app.tenant_id', \(tenant), true)", logger: logger)
                    }
                    var result = -1
                    for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
                        .decode(Int.self)
                    {
                        result = value
                    }
                    try await connection.query("ROLLBACK", logger: logger)
                    return result
                }
                // No filter at all: RLS alone decides.
                #expect(try await count("SELECT count(*)::int FROM events", tenant: a.description) == 2)
                #expect(try await count("SELECT count(*)::int FROM events", tenant: b.description) == 3)
                // No tenant set: nothing is visible (fail closed).
                #expect(try await count("SELECT count(*)::int FROM events", tenant: nil) == 0)
                #expect(try await count("SELECT count(*)::int FROM tenants", tenant: nil) == 0)
                // Platform-wide scope, used by the few cross-tenant operations, sees everything.
                #expect(try await count("SELECT count(*)::int FROM events", tenant: "*") == 5)
            }
            // Writing another tenant's row is refused by the policy's WITH CHECK.
            try await PostgresAdmin.withConnection(url: try #require(database.postgresURL)) { connection in
                try await connection.query("BEGIN", logger: logger)
                try await connection.query("SELECT set_config('app.tenant_id', \(a.description), true)", logger: logger)
                await #expect(throws: PSQLError.self) {
                    try await connection.query(
                        """
                        INSERT INTO events (tenant_id, id, source, type, time, data_content_type, data)
                        VALUES (\(b.rawValue), 'forged', '/x', 'x.y', now(), 'application/json', '{}')
                        """,
                        logger: logger
                    )
                }
                _ = try? await connection.query("ROLLBACK", logger: logger)
            }
        }
    }
}
