import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import AgentplaneTesting
import PostgresNIO
import Testing

/// PostgreSQL only: every table that carries `tenant_id` is under forced row-level security, and,
/// with rows of two tenants in it, an unfiltered query sees exactly its own tenant's rows, and none
/// without a tenant (fail closed). The table list comes from the catalog, so a new tenant-owned
/// table without a policy fails this test.
@Suite struct PostgresRowLevelSecurityCatalogTests {
    /// Writes rows of `tenant` into as many tenant-owned tables as the use cases reach.
    static func seed(_ useCases: UseCases, slug: String) async throws -> TenantID {
        let admin = Caller(principal: .system, operation: "seed")
        let tenant = try await useCases.createTenant(CreateTenant(slug: slug, name: slug), by: admin).id
        let account = try await useCases.createServiceAccount(
            CreateServiceAccount(name: "ci", role: .admin), tenant: tenant, by: admin)
        _ = try await useCases.createKey(CreateAPIKey(), account: account.id, tenant: tenant, by: admin)
        let password = "correct horse battery"
        _ = try await useCases.createUser(
            CreateUser(
                email: "\(slug)@example.com", name: slug, password: password, tenantSlug: slug, role: .member,
                platformAdmin: false),
            by: .operatorCLI("seed"))
        _ = try await useCases.signIn(.password(email: "\(slug)@example.com", password: password, tenant: tenant))
        let agent = try await useCases.createAgent(
            AgentDraft(type: "agent-\(slug)", name: "A", category: "c"), by: admin)
        let instance = try await useCases.createInstance(
            CreateInstance(agentID: agent.id.lowercasedString, name: "desk"), tenant: tenant, by: admin)
        _ = try await useCases.createEntry(
            CreateEntry(content: "refunds within 14 days"), instance: instance.id, tenant: tenant, by: admin)
        // Its gateway activation, written straight through the port (activating needs a running instance).
        let activation = InstanceActivation(
            tenantID: tenant, instanceID: instance.id, active: true, activatedAt: .now(), activatedBy: "seed",
            deactivatedAt: nil)
        let record = admin.record(
            AuditedResource(tenant: tenant, type: "instance", id: nil), status: 200, events: [], at: .now())
        _ = try await useCases.store.activations.save(activation, record: record)
        // A health check of it.
        try await useCases.store.instanceHealth.record(
            InstanceHealthCheck(
                id: UUIDv7.make(), tenantID: tenant, instanceID: instance.id, checkedAt: .now(), healthy: true,
                latencyMs: 1, detail: "seed"),
            keep: 20, events: [])
        _ = try await useCases.publishEvent(PublishEvent(type: "seed.done"), tenant: tenant, by: admin)
        // A run, claimed: rows in runs, run_attempts and run_concurrency.
        _ = try await useCases.store.runs.enqueue([
            NewRun(kind: "seed.run", tenantID: tenant, runAt: .now(), concurrencyKey: "k", createdAt: .now())
        ])
        _ = try await useCases.store.runs.claim(
            ClaimRequest(workerID: "seed", kinds: ["seed.run"], limit: 1, leaseMicroseconds: 60_000_000, now: .now()))
        _ = try await useCases.store.idempotency.claim(
            IdempotencyScope(tenantID: tenant, principalID: "seed", key: "k1"), fingerprint: "f", now: .now(),
            expiresAt: Timestamp(microsecondsSinceEpoch: Timestamp.now().microsecondsSinceEpoch + 60_000_000))
        // A task fired now (tasks, task_fires, a run with its step logs), a secret and an MCP server.
        var tools = useCases
        tools.toolSettings = ToolSettings(
            secretBox: try SecretBox(keyBytes: SecretBox.generateKeyBytes()),
            stdioAllowList: ["/usr/local/bin/seed-mcp"])
        let task = try await tools.createTask(
            TaskFields(
                title: "t", scheduleKind: "cron", scheduleExpr: "0 9 * * *",
                payload: ["pipeline": .array([["id": "a", "uses": "log"]])]),
            tenant: tenant, by: admin)
        let run = try await tools.runTaskNow(task.id, tenant: tenant, by: admin)
        try await tools.store.runs.recordSteps(
            tenant: tenant, run: run.id, attempt: 1,
            [
                StepLog(
                    attempt: 1, position: 0, stepID: "a", uses: "log", outcome: .succeeded, input: [:], output: [:],
                    error: nil, calls: 1, startedAt: .now(), durationMicroseconds: 1)
            ])
        _ = try await tools.createSecret(name: "SEED", value: "seed-value", tenant: tenant, by: admin)
        _ = try await tools.createMCPServer(
            MCPServerFields(name: "seed", transport: "stdio", command: "/usr/local/bin/seed-mcp"), tenant: tenant,
            by: admin)
        // A webhook with a (test) delivery and its attempt (the default sender sends nothing: a failed attempt).
        let webhook = try await tools.createWebhook(
            WebhookFields(url: "https://hooks.example.com/seed"), tenant: tenant, by: admin)
        _ = try await tools.testWebhook(webhook.webhook.id, tenant: tenant, by: admin)
        // A named consumer and a command.
        _ = try await useCases.createConsumer(
            ConsumerFields(name: "seed", eventTypes: [], subject: nil, format: nil, startAt: "beginning"),
            tenant: tenant, by: admin)
        _ = try await useCases.submitCommand(
            SubmitCommand(
                action: "delete_instance", data: ["instance_id": .string(instance.id.lowercasedString)],
                requestID: "seed"),
            tenant: tenant, by: admin)
        return tenant
    }

    /// Every table of the schema with a `tenant_id` column, and whether forced RLS with a policy guards it.
    static func tenantOwnedTables(on connection: PostgresConnection) async throws -> [(name: String, secured: Bool)] {
        let rows = try await connection.query(
            """
            SELECT c.relname::text,
                c.relrowsecurity AND c.relforcerowsecurity
                    AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind = 'r'
                AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                    AND a.attname = 'tenant_id' AND NOT a.attisdropped)
            ORDER BY 1
            """,
            logger: testLogger()
        )
        var tables: [(name: String, secured: Bool)] = []
        for try await (name, secured) in rows.decode((String, Bool).self) { tables.append((name, secured)) }
        return tables
    }

    /// Rows of `table` matching `filter` visible with `app.tenant_id` set to `scope` (nil: unset).
    static func count(on connection: PostgresConnection, _ table: String, scope: String?, where filter: String = "true")
        async throws -> Int
    {
        let logger = testLogger()
        try await connection.query("BEGIN", logger: logger)
        if let scope {
            try await connection.query("SELECT set_config('app.tenant_id', \(scope), true)", logger: logger)
        }
        var result = -1
        for try await value in try await connection.query(
            PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(table) WHERE \(filter)"), logger: logger
        ).decode(Int.self) {
            result = value
        }
        try await connection.query("ROLLBACK", logger: logger)
        return result
    }

    @Test func everyTenantOwnedTableIsIsolated() async throws {
        try await withIsolatedDatabase(.postgres) { database in
            let store = try database.openStore()
            let tenants = try await withRunningStore(store) { store in
                _ = try await store.migrate()
                let useCases = UseCases(store: store, passwords: PasswordHasher(cost: 4))
                return [try await Self.seed(useCases, slug: "acme"), try await Self.seed(useCases, slug: "globex")]
            }
            let (a, b) = (tenants[0], tenants[1])
            try await PostgresAdmin.withConnection(url: try #require(database.postgresURL)) { connection in
                var tables: [String] = []
                for row in try await Self.tenantOwnedTables(on: connection) {
                    #expect(row.secured, "\(row.name) is not under forced row-level security")
                    tables.append(row.name)
                }
                #expect(tables.count >= 10, "tenant-owned tables found: \(tables)")

                var seeded: [String] = []
                for table in tables {
                    let own = try await Self.count(on: connection, table, scope: "*", where: "tenant_id = '\(a)'")
                    let other = try await Self.count(on: connection, table, scope: "*", where: "tenant_id = '\(b)'")
                    if own > 0 && other > 0 { seeded.append(table) }
                    #expect(
                        try await Self.count(on: connection, table, scope: a.description) == own,
                        "\(table) leaks to tenant a")
                    #expect(
                        try await Self.count(on: connection, table, scope: b.description) == other,
                        "\(table) leaks to tenant b")
                    #expect(
                        try await Self.count(on: connection, table, scope: nil) == 0,
                        "\(table) is visible without a tenant")
                }
                // The seed reached most tables, so the visibility checks above compared real rows.
                #expect(seeded.count >= tables.count - 2, "seeded \(seeded) of \(tables)")
            }
        }
    }
}
