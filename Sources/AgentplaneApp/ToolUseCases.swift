import AgentplaneCore
import AgentplaneStore
import Foundation

/// The server's settings for tools: how secrets are sealed, which stdio commands may run, which URLs may be
/// reached, and how an MCP server's tools are listed.
public struct ToolSettings: Sendable {
    /// Seals secret values (nil: no key configured; secrets cannot be stored).
    public var secretBox: SecretBox?
    /// Absolute paths of the programs tenants' stdio MCP servers may run (`AGENTPLANE_MCP_STDIO_ALLOW`).
    public var stdioAllowList: Set<String>
    /// The SSRF check of a URL: nil when it may be reached, else why not.
    public var urlCheck: @Sendable (URL) async -> String?
    /// Lists a server's tools (the MCP bridge's; it asks the server).
    public var listTools: @Sendable (MCPServerConfig) async throws -> [ToolDescriptor]

    /// Creates the settings.
    public init(
        secretBox: SecretBox? = nil, stdioAllowList: Set<String> = [],
        urlCheck: @escaping @Sendable (URL) async -> String? = { _ in nil },
        listTools: @escaping @Sendable (MCPServerConfig) async throws -> [ToolDescriptor] = { _ in [] }
    ) {
        self.secretBox = secretBox
        self.stdioAllowList = stdioAllowList
        self.urlCheck = urlCheck
        self.listTools = listTools
    }
}

/// A tool an MCP server offers.
public struct ToolDescriptor: Sendable, Hashable {
    /// Its name (a step's `uses` is `<server>.<name>`).
    public var name: String
    /// What it does.
    public var description: String?
    /// The JSON Schema of its input.
    public var inputSchema: JSONValue

    /// Creates a descriptor.
    public init(name: String, description: String?, inputSchema: JSONValue) {
        self.name = name
        self.description = description
        self.inputSchema = inputSchema
    }
}

extension UseCases {
    // MARK: Secrets

    /// Stores a new secret, sealed.
    public func createSecret(name: String, value: String, tenant named: TenantID?, by caller: Caller) async throws
        -> TenantSecret
    {
        let tenant = try await actingTenant(named, for: caller)
        let errors = TenantSecret.nameErrors(name) + TenantSecret.valueErrors(value)
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        let now = clock.now()
        let secret = TenantSecret(
            id: UUIDv7.make(), tenantID: tenant, name: name, ciphertext: try seal(value, tenant: tenant, name: name),
            version: 1, createdAt: now, updatedAt: now)
        try await mappingConflicts([.secretName: ("The tenant already has a secret with this name.", "/name")]) {
            try await store.secrets.create(
                secret, record: caller.record(Self.resource(secret), status: 201, events: [], at: now))
        }
        return secret
    }

    /// The tenant's secrets by name (asked with one extra row).
    public func listSecrets(after: String?, limit: Int, tenant named: TenantID?, for caller: Caller) async throws
        -> Page<TenantSecret>
    {
        let tenant = try await actingTenant(named, for: caller)
        return Page(fetched: try await store.secrets.list(tenant: tenant, after: after, limit: limit + 1), limit: limit)
    }

    /// One secret's metadata (else 404).
    public func secret(_ name: String, tenant named: TenantID?, for caller: Caller) async throws -> TenantSecret {
        let tenant = try await actingTenant(named, for: caller)
        guard let secret = try await store.secrets.find(tenant: tenant, name: name) else {
            throw AgentplaneError(.notFound, "No such secret.")
        }
        return secret
    }

    /// Gives a secret a new value.
    public func updateSecret(_ name: String, value: String, tenant named: TenantID?, by caller: Caller) async throws
        -> TenantSecret
    {
        var secret = try await secret(name, tenant: named, for: caller)
        let errors = TenantSecret.valueErrors(value)
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        let now = clock.now()
        secret.ciphertext = try seal(value, tenant: secret.tenantID, name: name)
        secret.version += 1
        secret.updatedAt = now
        try await store.secrets.update(
            secret, record: caller.record(Self.resource(secret), status: 200, events: [], at: now))
        return secret
    }

    /// Deletes a secret.
    public func deleteSecret(_ name: String, tenant named: TenantID?, by caller: Caller) async throws {
        let secret = try await secret(name, tenant: named, for: caller)
        let now = clock.now()
        try await store.secrets.delete(
            tenant: secret.tenantID, name: name,
            record: caller.record(Self.resource(secret), status: 204, events: [], at: now))
    }

    /// The plain values of the tenant's secrets named (for the pipeline runner and the MCP bridge only);
    /// names without a secret are left out.
    public func secretValues(_ names: Set<String>, tenant: TenantID) async throws -> [String: String] {
        guard !names.isEmpty else { return [:] }
        guard let box = toolSettings.secretBox else { return [:] }
        var values: [String: String] = [:]
        for name in names {
            guard let secret = try await store.secrets.find(tenant: tenant, name: name) else { continue }
            values[name] = try box.open(secret.ciphertext, tenant: tenant, name: name)
        }
        return values
    }

    func seal(_ value: String, tenant: TenantID, name: String) throws -> String {
        guard let box = toolSettings.secretBox else {
            throw AgentplaneError(.internalError, "Secrets cannot be stored: the server has no secrets key configured.")
        }
        return try box.seal(value, tenant: tenant, name: name)
    }

    static func resource(_ secret: TenantSecret) -> AuditedResource {
        AuditedResource(tenant: secret.tenantID, type: "secret", id: secret.name)
    }
}
