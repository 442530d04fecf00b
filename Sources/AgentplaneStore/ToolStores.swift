import AgentplaneCore
import Foundation

/// Persistence of tenants' secrets (sealed values only: the store never sees a plain value).
public protocol SecretStore: Sendable {
    /// Inserts a secret; a name the tenant already uses is `uniqueViolation(.secretName)`.
    func create(_ secret: TenantSecret, record: ChangeRecord) async throws
    /// One secret of the tenant, by name.
    func find(tenant: TenantID, name: String) async throws -> TenantSecret?
    /// The tenant's secrets by name, after `after`.
    func list(tenant: TenantID, after: String?, limit: Int) async throws -> [TenantSecret]
    /// Replaces the sealed value (the version the caller computed); throws `notFound`.
    func update(_ secret: TenantSecret, record: ChangeRecord) async throws
    /// Deletes a secret; throws `notFound`.
    func delete(tenant: TenantID, name: String, record: ChangeRecord) async throws
}

/// Persistence of tenants' MCP servers.
public protocol MCPServerStore: Sendable {
    /// Inserts a server; a name the tenant already uses is `uniqueViolation(.mcpServerName)`.
    func create(_ server: MCPServerConfig, record: ChangeRecord) async throws
    /// One server of the tenant, by id.
    func find(tenant: TenantID, id: UUID) async throws -> MCPServerConfig?
    /// One server of the tenant, by name.
    func find(tenant: TenantID, name: String) async throws -> MCPServerConfig?
    /// The tenant's servers by name, after `after`.
    func list(tenant: TenantID, after: String?, limit: Int) async throws -> [MCPServerConfig]
    /// Replaces the server when the stored version is `expectedVersion`; throws `notFound` or `staleVersion`.
    func update(_ server: MCPServerConfig, expectedVersion: Int64, record: ChangeRecord) async throws
    /// Deletes a server; throws `notFound`.
    func delete(tenant: TenantID, id: UUID, record: ChangeRecord) async throws
}
