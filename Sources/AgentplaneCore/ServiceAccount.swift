import Foundation

/// A non-human principal of a tenant (seed 004's "agents" with bearer tokens and scopes).
public struct ServiceAccount: Sendable, Hashable, Identifiable {
    /// Row id.
    public var id: UUID
    /// Owning tenant.
    public var tenantID: TenantID
    /// Unique within the tenant.
    public var name: String
    /// What it is for.
    public var description: String
    /// Its role; its keys' scopes are capped by it.
    public var role: Role
    /// Default scopes of new keys.
    public var scopes: [String]
    /// When it was created.
    public var createdAt: Timestamp

    /// Creates an account value.
    public init(
        id: UUID,
        tenantID: TenantID,
        name: String,
        description: String,
        role: Role,
        scopes: [String],
        createdAt: Timestamp
    ) {
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.description = description
        self.role = role
        self.scopes = scopes
        self.createdAt = createdAt
    }
}
