import AgentplaneCore
import AgentplaneStore
import Logging
import PostgresNIO
import ServiceLifecycle

/// The scale-out backend: PostgreSQL through PostgresNIO's pooled `PostgresClient`.
public final class PostgresStore: Store {
    let client: PostgresClient
    let logger: Logger

    public let capabilities = StoreCapabilities(
        supportsListenNotify: true,
        supportsSkipLocked: true,
        multiNode: true,
        rowLevelSecurity: true,
        backendName: "postgres"
    )
    public var events: any EventLog { PostgresEventLog(client: client, logger: logger) }
    public var apiKeys: any APIKeyStore { PostgresAPIKeyStore(client: client, logger: logger) }
    public var tenants: any TenantStore { PostgresTenantStore(client: client, logger: logger) }
    public var serviceAccounts: any ServiceAccountStore { PostgresServiceAccountStore(client: client, logger: logger) }
    public var auditLog: any AuditLogStore { PostgresAuditLogStore(client: client, logger: logger) }
    public var idempotency: any IdempotencyStore { PostgresIdempotencyStore(client: client, logger: logger) }
    public var identity: any IdentityStore { PostgresIdentityStore(client: client, logger: logger) }
    public var agents: any AgentStore { PostgresAgentStore(client: client, logger: logger) }
    public var instances: any InstanceStore {
        PostgresWakingInstanceStore(inner: PostgresInstanceStore(client: client, logger: logger)) { [notifier] in
            notifier.wake()
        }
    }
    public var activations: any InstanceActivationStore {
        PostgresInstanceActivationStore(client: client, logger: logger)
    }
    public var instanceHealth: any InstanceHealthStore {
        PostgresInstanceHealthStore(client: client, logger: logger)
    }
    public var knowledgeBase: any KnowledgeBaseStore {
        PostgresWakingKnowledgeBaseStore(inner: PostgresKnowledgeBaseStore(client: client, logger: logger)) {
            [notifier] in notifier.wake()
        }
    }
    public var runs: any RunQueue {
        PostgresRunQueue(client: client, logger: logger) { [notifier] in notifier.wake() }
    }
    public var tasks: any TaskStore {
        PostgresTaskStore(client: client, logger: logger) { [notifier] in notifier.wake() }
    }
    public var secrets: any SecretStore { PostgresSecretStore(client: client, logger: logger) }
    public var mcpServers: any MCPServerStore { PostgresMCPServerStore(client: client, logger: logger) }
    public var consumers: any ConsumerStore { PostgresConsumerStore(client: client, logger: logger) }
    public var commands: any CommandStore {
        PostgresCommandStore(client: client, logger: logger) { [notifier] in notifier.wake() }
    }
    public var webhooks: any WebhookStore {
        PostgresWebhookStore(client: client, logger: logger) { [notifier] in notifier.wake() }
    }
    public let runWakeup: RunWakeup
    public let eventBell = EventBell()
    let notifier: PostgresRunNotifier

    /// Creates the store; nothing connects until `run()` is running.
    public init(configuration: PostgresConfiguration, logger: Logger) {
        self.client = PostgresClient(configuration: configuration.clientConfiguration, backgroundLogger: logger)
        self.logger = logger
        let wakeup = RunWakeup()
        self.runWakeup = wakeup
        self.notifier = PostgresRunNotifier(
            client: client, configuration: configuration, wakeup: wakeup, logger: logger)
        notifier.events = PostgresEventNotifier(
            client: client, schema: notifier.schemaSuffix, bell: eventBell, logger: logger)
    }

    /// Runs the connection pool, and the listening connection of the run wake-ups, until cancelled or
    /// shut down gracefully; leases hang unless this is running.
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.client.run() }
            group.addTask { await self.notifier.listen() }
        }
    }

    public var schemaVersion: Int { PostgresMigrations.all.last?.version ?? 0 }

    /// Applies the pending migrations, each in a transaction of its own (its statements and its
    /// `schema_migrations` row commit together). One transaction per step keeps each one short: the
    /// event log serves readers only events older than every transaction still running, so one long
    /// migration transaction would hold back every tenant's new events for its whole duration.
    public func migrate() async throws -> MigrationReport {
        try await PostgresErrors.translating {
            var applied: [Int] = []
            var current = 0
            while true {
                let step = try await client.withGuardedTransaction(logger: logger) { connection in
                    try await migrateOneStep(on: connection)
                }
                current = step.current
                guard let version = step.applied else { break }
                applied.append(version)
                current = version
            }
            try await client.withConnection { connection in
                for try await bypasses in try await connection.guardedQuery(
                    "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user",
                    logger: logger
                ).decode(Bool.self) where bypasses {
                    logger.warning(
                        "connected as a role that bypasses row-level security; tenant isolation then rests on the application alone (docs/security.md)"
                    )
                }
            }
            return MigrationReport(applied: applied, currentVersion: current)
        }
    }

    /// In the caller's transaction: the schema's version, and the next migration applied if one is due.
    private func migrateOneStep(on connection: PostgresConnection) async throws -> (current: Int, applied: Int?) {
        // One migrator at a time per schema, even with many nodes starting together.
        try await connection.guardedQuery(
            "SELECT pg_advisory_xact_lock(hashtext('agentplane.migrate.' || current_schema()))",
            logger: logger
        )
        try await connection.guardedQuery(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
            """,
            logger: logger
        )
        var current = 0
        for try await version in try await connection.guardedQuery(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            logger: logger
        ).decode(Int.self) {
            current = version
        }
        let known = PostgresMigrations.all.last?.version ?? 0
        guard current <= known else {
            throw StoreError(
                .incompatibleSchema,
                "The database is at schema version \(current), newer than this binary's \(known)."
            )
        }
        guard let migration = PostgresMigrations.all.first(where: { $0.version > current }) else {
            return (current, nil)
        }
        for statement in migration.statements {
            try await connection.guardedQuery(PostgresQuery(unsafeSQL: statement), logger: logger)
        }
        try await connection.guardedQuery(
            "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
            logger: logger
        )
        return (current, migration.version)
    }

    public func ping() async throws {
        try await PostgresErrors.translating {
            try await client.guardedQuery("SELECT 1", logger: logger) { _ in }
        }
    }
}
