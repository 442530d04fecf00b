import AgentplaneCore
import AgentplaneStore
import Foundation
import GRDB
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// The embedded backend: one SQLite file in WAL mode, one serialized writer and pooled readers.
public final class SQLiteStore: Store {
    /// The GRDB pool; package-visible for the adapter's own stores.
    let pool: DatabasePool
    private let lockDescriptor: Int32
    /// The database file.
    let path: String
    /// When `run()` checkpoints the WAL: how often it looks, and from which size on it truncates.
    let walPolicy: WALPolicy

    public let capabilities = StoreCapabilities(
        supportsListenNotify: false,
        supportsSkipLocked: false,
        multiNode: false,
        rowLevelSecurity: false,
        backendName: "sqlite"
    )
    public var events: any EventLog { SQLiteEventLog(pool: pool) }
    public var apiKeys: any APIKeyStore { SQLiteAPIKeyStore(pool: pool) }
    public var tenants: any TenantStore { SQLiteTenantStore(pool: pool) }
    public var serviceAccounts: any ServiceAccountStore { SQLiteServiceAccountStore(pool: pool) }
    public var auditLog: any AuditLogStore { SQLiteAuditLogStore(pool: pool) }
    public var idempotency: any IdempotencyStore { SQLiteIdempotencyStore(pool: pool) }
    public var identity: any IdentityStore { SQLiteIdentityStore(pool: pool) }
    public var agents: any AgentStore { SQLiteAgentStore(pool: pool) }
    public var instances: any InstanceStore { SQLiteInstanceStore(pool: pool) }
    public var activations: any InstanceActivationStore { SQLiteInstanceActivationStore(pool: pool) }
    public var instanceHealth: any InstanceHealthStore { SQLiteInstanceHealthStore(pool: pool) }
    public var knowledgeBase: any KnowledgeBaseStore { SQLiteKnowledgeBaseStore(pool: pool) }
    public var runs: any RunQueue { SQLiteRunQueue(pool: pool) }
    public var tasks: any TaskStore { SQLiteTaskStore(pool: pool) }
    public var secrets: any SecretStore { SQLiteSecretStore(pool: pool) }
    public var mcpServers: any MCPServerStore { SQLiteMCPServerStore(pool: pool) }
    public var consumers: any ConsumerStore { SQLiteConsumerStore(pool: pool) }
    public var commands: any CommandStore { SQLiteCommandStore(pool: pool) }
    public var webhooks: any WebhookStore { SQLiteWebhookStore(pool: pool) }
    public let runWakeup = RunWakeup()
    public let eventBell = EventBell()
    private let runObserver: SQLiteRunCommitObserver
    private let eventObserver: SQLiteEventCommitObserver

    /// Opens (creating if needed) the database file at `path`.
    ///
    /// Takes an exclusive lock beside the file: a second node on the same file is refused, because
    /// SQLite offers no cross-process wake-ups or claims. A holder that lets go within `lockWait` (a node
    /// that is just stopping, a store of the same process still being released) is waited for.
    public init(path: String, walPolicy: WALPolicy = WALPolicy(), lockWait: Duration = .seconds(3)) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let descriptor = try Self.lock(path + ".lock", waiting: lockWait, for: path)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.maximumReaderCount = 8
        let journalLimit = walPolicy.truncateAboveBytes
        configuration.prepareDatabase { db in
            // journal_size_limit: whenever SQLite itself resets the WAL, it also shrinks the file to this.
            try db.execute(
                sql:
                    "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA journal_size_limit = \(journalLimit);"
            )
        }
        do {
            self.pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            close(descriptor)
            throw SQLiteErrors.translate(error)
        }
        self.lockDescriptor = descriptor
        self.path = path
        self.walPolicy = walPolicy
        runObserver = SQLiteRunCommitObserver(wakeup: runWakeup)
        pool.add(transactionObserver: runObserver, extent: .databaseLifetime)
        eventObserver = SQLiteEventCommitObserver(bell: eventBell)
        pool.add(transactionObserver: eventObserver, extent: .databaseLifetime)
    }

    deinit {
        try? pool.close()
        close(lockDescriptor)
    }

    /// Opens `lockPath` and takes its exclusive lock, retrying every 20 ms for up to `wait`.
    private static func lock(_ lockPath: String, waiting wait: Duration, for path: String) throws -> Int32 {
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw StoreError(.unavailable, "Cannot open the lock file beside \(path).")
        }
        let deadline = ContinuousClock.now + wait
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let reason = errno
            guard reason == EINTR || (reason == EWOULDBLOCK && ContinuousClock.now < deadline) else {
                close(descriptor)
                throw StoreError(
                    .unavailable,
                    "Another Agentplane node is using \(path); SQLite serves one node only (use PostgreSQL for more)."
                )
            }
            // The holder gives no signal on release; a short poll bounded by `wait` is all flock offers.
            usleep(20_000)
        }
        return descriptor
    }

    public var schemaVersion: Int { Self.latestSchemaVersion }
    /// The newest schema version this binary knows.
    public static var latestSchemaVersion: Int { SQLiteMigrations.all.last?.version ?? 0 }

    public func migrate() async throws -> MigrationReport {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        CREATE TABLE IF NOT EXISTS schema_migrations (
                            version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)
                        """
                )
                let current =
                    try Int.fetchOne(try db.cachedStatement(sql: "SELECT MAX(version) FROM schema_migrations")) ?? 0
                let known = SQLiteMigrations.all.last?.version ?? 0
                guard current <= known else {
                    throw StoreError(
                        .incompatibleSchema,
                        "The database is at schema version \(current), newer than this binary's \(known)."
                    )
                }
                var applied: [Int] = []
                for migration in SQLiteMigrations.all where migration.version > current {
                    for statement in migration.statements { try db.execute(sql: statement) }
                    try db.cachedStatement(
                        sql: "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"
                    ).execute(
                        arguments: [migration.version, migration.name, Timestamp.now().microsecondsSinceEpoch]
                    )
                    applied.append(migration.version)
                }
                return MigrationReport(applied: applied, currentVersion: max(current, applied.last ?? 0))
            }
        }
    }

    public func ping() async throws {
        try await SQLiteErrors.translating {
            _ = try await pool.read { db in try Int.fetchOne(try db.cachedStatement(sql: "SELECT 1")) }
        }
    }

    /// Keeps the WAL bounded until graceful shutdown (`WALPolicy`), then checkpoints it one last time.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: self.walPolicy.interval)
                _ = try? await self.checkpointIfNeeded()
            }
        }
        _ = try? await pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
    }
}
