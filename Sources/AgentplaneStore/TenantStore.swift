import AgentplaneCore

/// Persistence of tenants. Every mutation records its events and audit row in the same transaction.
public protocol TenantStore: Sendable {
    /// Inserts a tenant; `uniqueViolation("tenants_slug")` when the slug is taken.
    func create(_ tenant: Tenant, record: ChangeRecord) async throws
    /// The tenant, unless it does not exist or was deleted.
    func find(id: TenantID) async throws -> Tenant?
    /// The live tenant with this slug.
    func find(slug: String) async throws -> Tenant?
    /// Tenants ordered by creation, after the tenant with id `after`.
    func list(after: TenantID?, limit: Int) async throws -> [Tenant]
    /// Replaces name, status and quotas when the stored version is `expectedVersion`; returns the new
    /// state. Throws `notFound` or `staleVersion`.
    func update(_ tenant: Tenant, expectedVersion: Int64, record: ChangeRecord) async throws -> Tenant
    /// Deletes the tenant (softly: its id is never reused) and revokes its keys. Throws `notFound`.
    func delete(id: TenantID, at time: Timestamp, record: ChangeRecord) async throws
}

/// Persistence of service accounts (non-human principals) and their keys.
public protocol ServiceAccountStore: Sendable {
    /// Inserts an account; `uniqueViolation("service_accounts_tenant_id_name")` when the name is taken.
    func create(_ account: ServiceAccount, record: ChangeRecord) async throws
    /// The tenant's live accounts, oldest first.
    func list(tenant: TenantID) async throws -> [ServiceAccount]
    /// One live account of the tenant.
    func find(tenant: TenantID, id: ServiceAccount.ID) async throws -> ServiceAccount?
    /// Deletes the account and revokes its keys; throws `notFound`.
    func delete(tenant: TenantID, id: ServiceAccount.ID, at time: Timestamp, record: ChangeRecord) async throws
    /// Stores a key for the account named by `key.serviceAccountID`; throws `notFound` when that
    /// account is not a live account of `key.tenantID`.
    func createKey(_ key: APIKeyRecord, record: ChangeRecord) async throws
    /// The account's keys (revoked ones included), newest first.
    func listKeys(tenant: TenantID, account: ServiceAccount.ID) async throws -> [APIKeyRecord]
    /// Revokes one key of the account; throws `notFound` (also for a key already revoked).
    func revokeKey(
        tenant: TenantID,
        account: ServiceAccount.ID,
        key: APIKeyRecord.ID,
        at time: Timestamp,
        record: ChangeRecord
    ) async throws
}

/// The audit log: rows written with their mutation, plus failures written on their own.
public protocol AuditLogStore: Sendable {
    /// Appends one entry on its own (failed mutations, whose transaction rolled back).
    func append(_ entry: AuditEntry) async throws
    /// Entries newest first; `tenant` nil lists every tenant (platform admins).
    func list(tenant: TenantID?, query: AuditQuery) async throws -> [AuditEntry]
}

/// Which audit entries to list.
public struct AuditQuery: Sendable, Hashable {
    /// Only entries older than this entry id (the cursor).
    public var before: String?
    /// Page size.
    public var limit: Int
    /// Only this operation.
    public var operation: String?
    /// Only this outcome.
    public var outcome: AuditOutcome?
    /// Only this principal.
    public var principalID: String?

    /// Creates a query.
    public init(
        before: String? = nil,
        limit: Int = 100,
        operation: String? = nil,
        outcome: AuditOutcome? = nil,
        principalID: String? = nil
    ) {
        self.before = before
        self.limit = limit
        self.operation = operation
        self.outcome = outcome
        self.principalID = principalID
    }
}

extension APIKeyRecord: Identifiable {}
