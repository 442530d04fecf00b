import AgentplaneCore
import AgentplaneStore
import Foundation

extension UseCases {
    /// The acting tenant's live service accounts.
    public func listServiceAccounts(tenant named: TenantID?, for caller: Caller) async throws -> [ServiceAccount] {
        try await store.serviceAccounts.list(tenant: try await actingTenant(named, for: caller))
    }

    /// Creates a service account.
    public func createServiceAccount(_ command: CreateServiceAccount, tenant named: TenantID?, by caller: Caller)
        async throws -> ServiceAccount
    {
        let tenant = try await actingTenant(named, for: caller)
        let now = clock.now()
        let (account, events) = try CredentialDecisions.createAccount(
            command, tenant: tenant, by: caller.principal, context: caller.eventContext, now: now)
        try await mappingConflicts(
            [
                .serviceAccountName: (
                    "A service account named `\(account.name)` already exists in this tenant.", "/name"
                )
            ]
        ) {
            try await store.serviceAccounts.create(
                account, record: caller.record(Self.resource(account), status: 201, events: events, at: now))
        }
        return account
    }

    /// One live account of the acting tenant (else 404).
    public func serviceAccount(_ id: UUID, tenant named: TenantID?, for caller: Caller) async throws
        -> ServiceAccount
    {
        let tenant = try await actingTenant(named, for: caller)
        guard let account = try await store.serviceAccounts.find(tenant: tenant, id: id) else {
            throw AgentplaneError(.notFound, "No such service account.")
        }
        return account
    }

    /// Deletes an account and revokes its keys.
    public func deleteServiceAccount(_ id: UUID, tenant named: TenantID?, by caller: Caller) async throws {
        let account = try await serviceAccount(id, tenant: named, for: caller)
        let now = clock.now()
        let events = CredentialDecisions.deleteAccount(account, context: caller.eventContext, now: now)
        try await store.serviceAccounts.delete(
            tenant: account.tenantID, id: account.id, at: now,
            record: caller.record(Self.resource(account), status: 204, events: events, at: now))
    }

    /// An account's keys, revoked ones included, newest first.
    public func listKeys(account id: UUID, tenant named: TenantID?, for caller: Caller) async throws
        -> [APIKeyRecord]
    {
        let account = try await serviceAccount(id, tenant: named, for: caller)
        return try await store.serviceAccounts.listKeys(tenant: account.tenantID, account: account.id)
    }

    /// A new key for an account; the key text is in the result and nowhere else.
    public func createKey(_ command: CreateAPIKey, account id: UUID, tenant named: TenantID?, by caller: Caller)
        async throws -> (token: APIKeyToken, key: APIKeyRecord)
    {
        let account = try await serviceAccount(id, tenant: named, for: caller)
        let now = clock.now()
        let token = APIKeyToken.generate()
        let (key, events) = try CredentialDecisions.createKey(
            command, account: account, tenant: account.tenantID, token: token, secretHash: SecretDigest.hash(token),
            by: caller.principal, context: caller.eventContext, now: now)
        try await store.serviceAccounts.createKey(
            key,
            record: caller.record(
                AuditedResource(tenant: key.tenantID, type: "api_key", id: key.id.lowercasedString), status: 201,
                events: events, details: .object(["prefix": .string(key.prefix)]), at: now)
        )
        return (token, key)
    }

    /// Revokes one key of an account.
    public func revokeKey(_ keyID: UUID, account id: UUID, tenant named: TenantID?, by caller: Caller) async throws {
        let account = try await serviceAccount(id, tenant: named, for: caller)
        let now = clock.now()
        let events = CredentialDecisions.revokeKey(keyID, of: account, context: caller.eventContext, now: now)
        try await store.serviceAccounts.revokeKey(
            tenant: account.tenantID, account: account.id, key: keyID, at: now,
            record: caller.record(
                AuditedResource(tenant: account.tenantID, type: "api_key", id: keyID.lowercasedString), status: 204,
                events: events, at: now))
    }

    /// A key without an account, for a tenant by slug (`agentplane keys create`).
    public func createOperatorKey(_ command: CreateAPIKey, tenantSlug: String, by caller: Caller) async throws
        -> (token: APIKeyToken, key: APIKeyRecord)
    {
        guard let tenant = try await store.tenants.find(slug: tenantSlug) else {
            throw AgentplaneError(
                .notFound, "No tenant with the slug `\(tenantSlug)`.",
                fieldErrors: [FieldError(pointer: "/tenant", message: "does not exist")])
        }
        let now = clock.now()
        let token = APIKeyToken.generate()
        let (key, events) = try CredentialDecisions.createKey(
            command, account: nil, tenant: tenant.id, token: token, secretHash: SecretDigest.hash(token),
            by: caller.principal, context: caller.eventContext, now: now)
        try await store.apiKeys.insert(key, event: events[0])
        return (token, key)
    }

    /// What bootstrapping did.
    public enum BootstrapOutcome: Sendable, Equatable {
        /// A key already existed; nothing was created.
        case alreadyBootstrapped
        /// The key was stored.
        case created(APIKeyToken)
    }

    /// Stores the first platform-admin key unless one exists; safe when several nodes start at once.
    public func bootstrapAdminKey(_ token: APIKeyToken) async throws -> BootstrapOutcome {
        if try await store.apiKeys.bootstrapKeyExists() { return .alreadyBootstrapped }
        let (key, event) = CredentialDecisions.bootstrapKey(
            token: token, secretHash: SecretDigest.hash(token), now: clock.now())
        do {
            try await store.apiKeys.insert(key, event: event)
        } catch let error as StoreError {
            // Another node won the race (or the supplied key's prefix is taken).
            if case .uniqueViolation = error.kind { return .alreadyBootstrapped }
            throw error
        }
        return .created(token)
    }

    static func resource(_ account: ServiceAccount) -> AuditedResource {
        AuditedResource(tenant: account.tenantID, type: "service_account", id: account.id.lowercasedString)
    }
}
