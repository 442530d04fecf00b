import Foundation

/// Who is calling: resolved once per request from a credential (API key or access token).
public struct Principal: Sendable, Hashable {
    /// The credential's id: the API key's row id, or the user's id.
    public var id: UUID
    /// The tenant the credential acts in.
    public var tenantID: TenantID
    /// What the credential may do.
    public var role: Role
    /// Granted `resource:action` scopes.
    public var scopes: [String]
    /// The key's public prefix, safe to log (nil for users).
    public var keyPrefix: String?
    /// How events and the audit log name the caller: `api_key:<prefix>` or `user:<id>`.
    public var subject: String
    /// The tenant's rate limit, read with the credential.
    public var tenantRequestsPerMinute: Int

    /// Creates a principal.
    public init(
        id: UUID,
        tenantID: TenantID,
        role: Role,
        scopes: [String],
        keyPrefix: String?,
        subject: String,
        tenantRequestsPerMinute: Int
    ) {
        self.id = id
        self.tenantID = tenantID
        self.role = role
        self.scopes = scopes
        self.keyPrefix = keyPrefix
        self.subject = subject
        self.tenantRequestsPerMinute = tenantRequestsPerMinute
    }

    /// The operator at the command line (`agentplane keys create`, `users create`).
    public static let operatorCLI = Principal(
        id: UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)),
        tenantID: .platform,
        role: .platformAdmin,
        scopes: ["admin:*"],
        keyPrefix: nil,
        subject: "operator:cli",
        tenantRequestsPerMinute: .max
    )

    /// The platform itself (the bootstrap key, workers).
    public static let system = Principal(
        id: UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2)),
        tenantID: .platform,
        role: .platformAdmin,
        scopes: ["admin:*"],
        keyPrefix: nil,
        subject: "system",
        tenantRequestsPerMinute: .max
    )

    /// Whether this is a platform admin.
    public var isPlatformAdmin: Bool { role == .platformAdmin }

    /// The tenant an operation acts in: platform admins may name any tenant; everyone else acts in
    /// their own, and naming another is a 404 (its existence is not revealed).
    public func actingTenant(named: TenantID?) throws(AgentplaneError) -> TenantID {
        guard let named else { return tenantID }
        guard role == .platformAdmin || named == tenantID else {
            throw AgentplaneError(.notFound, "No such tenant.")
        }
        return named
    }
}
