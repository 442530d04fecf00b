import Foundation

/// A stored API key: the secret itself is never kept, only its hash.
public struct APIKeyRecord: Sendable, Hashable {
    /// Row id.
    public var id: UUID
    /// Owning tenant; `TenantID.platform` for platform credentials.
    public var tenantID: TenantID
    /// The public part of the key, unique.
    public var prefix: String
    /// Hex SHA-256 of the whole key text.
    public var secretHash: String
    /// Human label.
    public var name: String
    /// What the key may do.
    public var role: Role
    /// `resource:action` scopes.
    public var scopes: [String]
    /// Whether this is the first-start platform-admin key (at most one exists).
    public var isBootstrap: Bool
    /// When it was created.
    public var createdAt: Timestamp
    /// When it was last used, coarsely (updated at most once a minute).
    public var lastUsedAt: Timestamp?
    /// After this instant the key is refused.
    public var expiresAt: Timestamp?
    /// Once set, the key is refused.
    public var revokedAt: Timestamp?
    /// The service account the key belongs to (nil for the bootstrap and operator keys).
    public var serviceAccountID: UUID?

    /// Creates a record.
    public init(
        id: UUID,
        tenantID: TenantID,
        prefix: String,
        secretHash: String,
        name: String,
        role: Role,
        scopes: [String],
        isBootstrap: Bool,
        createdAt: Timestamp,
        lastUsedAt: Timestamp? = nil,
        expiresAt: Timestamp? = nil,
        revokedAt: Timestamp? = nil,
        serviceAccountID: UUID? = nil
    ) {
        self.id = id
        self.tenantID = tenantID
        self.prefix = prefix
        self.secretHash = secretHash
        self.name = name
        self.role = role
        self.scopes = scopes
        self.isBootstrap = isBootstrap
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.serviceAccountID = serviceAccountID
    }
}
