import Foundation

/// Create a local user (the operator's `agentplane users create`).
public struct CreateUser: Sendable, Hashable {
    /// Email, stored lowercased.
    public var email: String
    /// Display name.
    public var name: String
    /// The password (hashed before anything is stored).
    public var password: String
    /// The tenant to join, by slug.
    public var tenantSlug: String?
    /// The role there.
    public var role: Role
    /// Whether the user manages the whole platform.
    public var platformAdmin: Bool

    /// Creates the command.
    public init(
        email: String, name: String, password: String, tenantSlug: String?, role: Role, platformAdmin: Bool
    ) {
        self.email = email
        self.name = name
        self.password = password
        self.tenantSlug = tenantSlug
        self.role = role
        self.platformAdmin = platformAdmin
    }
}

/// The rules of users, memberships and sign-in.
public enum IdentityDecisions {
    /// Field errors of a new user, before anything is looked up or hashed.
    public static func userErrors(_ command: CreateUser) -> [FieldError] {
        var errors =
            UserValidation.emailErrors(command.email.lowercased()) + UserValidation.passwordErrors(command.password)
            + TenantValidation.nameErrors(command.name)
        if command.role == .platformAdmin {
            errors.append(FieldError(pointer: "/role", message: "is the tenant role; platform admins are a flag"))
        }
        if command.tenantSlug == nil, !command.platformAdmin {
            errors.append(FieldError(pointer: "/tenant", message: "is required unless the user is a platform admin"))
        }
        return errors
    }

    /// The user, its membership in `tenant` (when given) and `user.created`.
    public static func createUser(
        _ command: CreateUser, tenant: TenantID?, passwordHash: String, context: EventContext, now: Timestamp
    ) throws(AgentplaneError) -> (User, [Membership], NewEvent) {
        let errors = userErrors(command)
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        let user = User(
            id: UUIDv7.make(at: now), email: command.email.lowercased(), name: command.name,
            passwordHash: passwordHash, isPlatformAdmin: command.platformAdmin, createdAt: now)
        let memberships = tenant.map { [Membership(userID: user.id, tenantID: $0, role: command.role)] } ?? []
        return (user, memberships, Events.userCreated(user, memberships: memberships, context: context, at: now))
    }

    /// The tenant and role a password sign-in gets: platform admins the platform unless they name a
    /// tenant; members the tenant they name, or their only one.
    public static func signInTarget(user: User, memberships: [Membership], requested: TenantID?)
        throws(AgentplaneError) -> (TenantID, Role)?
    {
        if user.isPlatformAdmin, requested == nil || requested == .platform { return (.platform, .platformAdmin) }
        if let requested {
            guard let membership = memberships.first(where: { $0.tenantID == requested }) else { return nil }
            return (requested, membership.role)
        }
        guard memberships.count == 1, let only = memberships.first else {
            throw AgentplaneError(
                .validationFailed,
                memberships.isEmpty
                    ? "The user belongs to no tenant yet."
                    : "The user belongs to \(memberships.count) tenants: name one.",
                fieldErrors: [FieldError(pointer: "/tenant_id", message: "is required for this user")]
            )
        }
        return (only.tenantID, only.role)
    }

    /// The role a refreshed session keeps, or nil when the user left the tenant.
    public static func refreshedRole(user: User, memberships: [Membership], tenant: TenantID) -> Role? {
        if user.isPlatformAdmin, tenant == .platform { return .platformAdmin }
        return memberships.first(where: { $0.tenantID == tenant })?.role
    }

    /// How long a refresh token lives.
    public static let refreshLifetimeMicroseconds: Int64 = 30 * 86_400_000_000
}
