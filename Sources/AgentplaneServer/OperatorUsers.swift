import AgentplaneCore
import AgentplaneHTTP
import AgentplaneStore
import Foundation

/// Local users an operator creates from the command line (`agentplane users create`).
public enum OperatorUsers {
    /// Creates a user, member of tenant `tenantSlug` with `role` (or a platform admin).
    public static func create(
        store: any Store,
        email: String,
        name: String,
        password: String,
        tenantSlug: String?,
        role: Role,
        platformAdmin: Bool,
        bcryptCost: Int
    ) async throws -> User {
        let email = email.lowercased()
        let problems =
            UserValidation.emailErrors(email) + UserValidation.passwordErrors(password)
            + TenantValidation.nameErrors(name)
        if let problem = problems.first {
            throw OperatorKeys.Failure(description: "\(problem.pointer.dropFirst()) \(problem.message)")
        }
        guard role != .platformAdmin else {
            throw OperatorKeys.Failure(
                description: "use --platform-admin for platform admins; --role is the tenant role")
        }
        var memberships: [Membership] = []
        let now = Timestamp.now()
        let id = UUIDv7.make(at: now)
        if let tenantSlug {
            guard let tenant = try await store.tenants.find(slug: tenantSlug), tenant.id != .platform else {
                throw OperatorKeys.Failure(description: "no tenant with the slug '\(tenantSlug)'")
            }
            memberships.append(Membership(userID: id, tenantID: tenant.id, role: role))
        } else if !platformAdmin {
            throw OperatorKeys.Failure(description: "give --tenant SLUG, or --platform-admin")
        }
        let user = User(
            id: id,
            email: email,
            name: name,
            passwordHash: try await PasswordHasher(cost: UInt8(bcryptCost)).hash(password),
            isPlatformAdmin: platformAdmin,
            createdAt: now
        )
        do {
            try await store.identity.createUser(
                user,
                memberships: memberships,
                event: NewEvent(
                    type: "user.created",
                    subject: "users/\(id.lowercasedString)",
                    time: now,
                    data: .object([
                        "user_id": .string(id.lowercasedString),
                        "platform_admin": .bool(platformAdmin),
                        "tenant_ids": .array(memberships.map { .string($0.tenantID.description) }),
                        "created_by": .string("operator:cli"),
                    ]),
                    context: EventContext(userID: "operator:cli")
                )
            )
        } catch let error as StoreError where error.kind == .uniqueViolation(constraint: "users_email") {
            throw OperatorKeys.Failure(description: "a user with the email '\(email)' already exists")
        }
        return user
    }
}
