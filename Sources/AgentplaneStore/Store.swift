import AgentplaneCore
import ServiceLifecycle

/// The whole persistence port: lifecycle, capabilities and one store per aggregate.
///
/// A store is a `Service`: `run()` keeps its connections alive until graceful shutdown.
public protocol Store: Service {
    /// What this backend can do.
    var capabilities: StoreCapabilities { get }
    /// The durable event log (transactional outbox).
    var events: any EventLog { get }
    /// Hashed API keys.
    var apiKeys: any APIKeyStore { get }
    /// Tenants and their quotas.
    var tenants: any TenantStore { get }
    /// Service accounts and their keys.
    var serviceAccounts: any ServiceAccountStore { get }
    /// The audit log.
    var auditLog: any AuditLogStore { get }
    /// Idempotency keys and their stored responses.
    var idempotency: any IdempotencyStore { get }
    /// Users, memberships, refresh tokens.
    var identity: any IdentityStore { get }
    /// The agent catalog.
    var agents: any AgentStore { get }
    /// Instances and their knowledge bases.
    var instances: any InstanceStore { get }
    /// Instances' gateway activations.
    var activations: any InstanceActivationStore { get }
    /// Instances' health checks.
    var instanceHealth: any InstanceHealthStore { get }
    /// Knowledge-base entries and their search index.
    var knowledgeBase: any KnowledgeBaseStore { get }
    /// The durable job queue.
    var runs: any RunQueue { get }
    /// Tasks, their fires, and the scheduler's lease.
    var tasks: any TaskStore { get }
    /// Tenants' secrets (sealed).
    var secrets: any SecretStore { get }
    /// Tenants' MCP servers.
    var mcpServers: any MCPServerStore { get }
    /// Webhook subscriptions, their deliveries and attempts.
    var webhooks: any WebhookStore { get }
    /// Named consumers and their offsets.
    var consumers: any ConsumerStore { get }
    /// Commands and their outcomes.
    var commands: any CommandStore { get }
    /// Rung after commits on this node that may have made runs claimable (other nodes' workers find
    /// such runs by their poll until LISTEN/NOTIFY wake-ups are built).
    var runWakeup: RunWakeup { get }
    /// Rung after commits that appended events: this node's own, and on PostgreSQL every node's.
    var eventBell: EventBell { get }
    /// The newest schema version this binary knows (both adapters number migrations alike).
    var schemaVersion: Int { get }
    /// Applies every pending migration; safe to call concurrently and repeatedly.
    func migrate() async throws -> MigrationReport
    /// Succeeds when the database answers a trivial query.
    func ping() async throws
}

/// What `migrate()` did.
public struct MigrationReport: Sendable, Hashable {
    /// Versions applied by this call, ascending.
    public var applied: [Int]
    /// The schema version after the call.
    public var currentVersion: Int

    /// Creates a report.
    public init(applied: [Int], currentVersion: Int) {
        self.applied = applied
        self.currentVersion = currentVersion
    }
}

/// One forward-only schema step; both adapters keep the same numbering.
public struct Migration: Sendable {
    /// Position in the sequence, starting at 1, without gaps.
    public var version: Int
    /// Short snake_case description.
    public var name: String
    /// The statements, run in order in one transaction.
    public var statements: [String]

    /// Creates a migration.
    public init(version: Int, name: String, statements: [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }
}
