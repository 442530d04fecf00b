import Foundation

/// Create a service account in the acting tenant.
public struct CreateServiceAccount: Sendable, Hashable {
    /// Unique name in the tenant.
    public var name: String
    /// Description (default empty).
    public var description: String?
    /// Role (default member).
    public var role: Role?
    /// Scopes (default: all the caller may grant for the role).
    public var scopes: [String]?

    /// Creates the command.
    public init(name: String, description: String? = nil, role: Role? = nil, scopes: [String]? = nil) {
        self.name = name
        self.description = description
        self.role = role
        self.scopes = scopes
    }
}

/// Create an API key: for a service account (API) or, from the CLI, a bare key with a role.
public struct CreateAPIKey: Sendable, Hashable {
    /// Label (default `<account name> key`).
    public var name: String?
    /// The role of a key without an account (ignored for an account's key: it takes the account's).
    public var role: Role?
    /// Scopes (default: all the caller may grant within the role and the account).
    public var scopes: [String]?
    /// Lifetime in seconds (60 s to 10 years); nil: no expiry.
    public var expiresInSeconds: Int?

    /// Creates the command.
    public init(name: String? = nil, role: Role? = nil, scopes: [String]? = nil, expiresInSeconds: Int? = nil) {
        self.name = name
        self.role = role
        self.scopes = scopes
        self.expiresInSeconds = expiresInSeconds
    }
}

/// The rules of credentials: service accounts, their keys, and who may grant what.
public enum CredentialDecisions {
    /// A new account and `service_account.created`. Only a credential with `admin:*` creates admins;
    /// nobody grants scopes they do not hold.
    public static func createAccount(
        _ command: CreateServiceAccount, tenant: TenantID, by principal: Principal, context: EventContext,
        now: Timestamp
    ) throws(AgentplaneError) -> (ServiceAccount, [NewEvent]) {
        let role = command.role ?? .member
        let grantable = Scope.grantable(by: principal.scopes, role: role)
        let scopes = command.scopes ?? grantable.sorted()
        var errors = TenantValidation.nameErrors(command.name)
        if role == .admin, !principal.scopes.contains("admin:*") {
            errors.append(FieldError(pointer: "/role", message: "only a credential with `admin:*` may create admins"))
        }
        if role == .platformAdmin, tenant != .platform {
            errors.append(FieldError(pointer: "/role", message: "platform_admin exists only in the platform tenant"))
        }
        if let description = command.description, description.unicodeScalars.count > 1000 {
            errors.append(FieldError(pointer: "/description", message: "must be at most 1000 characters"))
        }
        if let description = command.description, description.unicodeScalars.contains("\u{0}") {
            errors.append(FieldError(pointer: "/description", message: "must not contain the NUL character"))
        }
        errors += scopeErrors(scopes, role: role, grantable: grantable)
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        let account = ServiceAccount(
            id: UUIDv7.make(at: now),
            tenantID: tenant,
            name: command.name,
            description: command.description ?? "",
            role: role,
            scopes: scopes,
            createdAt: now
        )
        return (account, [Events.serviceAccount(.serviceAccountCreated, account, context: context, at: now)])
    }

    /// `service_account.deleted` (its keys are revoked with it).
    public static func deleteAccount(_ account: ServiceAccount, context: EventContext, now: Timestamp) -> [NewEvent] {
        [Events.serviceAccount(.serviceAccountDeleted, account, context: context, at: now)]
    }

    /// A new key record for `token` and `api_key.created`. A key holds at most its account's scopes,
    /// and the caller hands on only what it may grant.
    public static func createKey(
        _ command: CreateAPIKey, account: ServiceAccount?, tenant: TenantID, token: APIKeyToken, secretHash: String,
        by principal: Principal, context: EventContext, now: Timestamp
    ) throws(AgentplaneError) -> (APIKeyRecord, [NewEvent]) {
        let role = account?.role ?? command.role ?? .member
        var grantable = Scope.grantable(by: principal.scopes, role: role)
        if let account { grantable.formIntersection(account.scopes) }
        let scopes = command.scopes ?? grantable.sorted()
        var errors = command.name.map { TenantValidation.nameErrors($0) } ?? []
        if role == .platformAdmin, tenant != .platform {
            errors.append(FieldError(pointer: "/role", message: "platform_admin exists only in the platform tenant"))
        }
        errors += scopeErrors(scopes, role: role, grantable: grantable)
        if let seconds = command.expiresInSeconds, !(60...315_360_000).contains(seconds) {
            errors.append(FieldError(pointer: "/expires_in_seconds", message: "must be between 60 and 315360000"))
        }
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        let key = APIKeyRecord(
            id: UUIDv7.make(at: now),
            tenantID: tenant,
            prefix: token.prefix,
            secretHash: secretHash,
            name: command.name ?? account.map { "\($0.name) key" } ?? "\(role.rawValue) key",
            role: role,
            scopes: scopes,
            isBootstrap: false,
            createdAt: now,
            expiresAt: command.expiresInSeconds.map {
                Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch + Int64($0) * 1_000_000)
            },
            serviceAccountID: account?.id
        )
        return (key, [Events.apiKeyCreated(facts(key), context: context, at: now)])
    }

    /// The first platform-admin key, made by the platform itself on an empty database.
    public static func bootstrapKey(token: APIKeyToken, secretHash: String, now: Timestamp)
        -> (APIKeyRecord, NewEvent)
    {
        let key = APIKeyRecord(
            id: UUIDv7.make(at: now),
            tenantID: .platform,
            prefix: token.prefix,
            secretHash: secretHash,
            name: "bootstrap platform admin",
            role: .platformAdmin,
            scopes: ["admin:*"],
            isBootstrap: true,
            createdAt: now
        )
        let event = Events.apiKeyCreated(facts(key), context: EventContext(userID: Principal.system.subject), at: now)
        return (key, event)
    }

    /// `api_key.revoked`.
    public static func revokeKey(_ keyID: UUID, of account: ServiceAccount, context: EventContext, now: Timestamp)
        -> [NewEvent]
    {
        [Events.apiKeyRevoked(keyID: keyID, serviceAccountID: account.id, context: context, at: now)]
    }

    /// Field errors for scopes: each must be known, within what `role` may hold, and grantable.
    public static func scopeErrors(_ scopes: [String], role: Role, grantable: Set<String>) -> [FieldError] {
        scopes.enumerated().compactMap { index, scope in
            if !Scope.isKnown(scope) {
                return FieldError(pointer: "/scopes/\(index)", message: "`\(scope)` is not a known scope")
            }
            if !Scope.ceiling(for: role).contains(scope) {
                return FieldError(
                    pointer: "/scopes/\(index)", message: "`\(scope)` exceeds what the role `\(role.rawValue)` may hold"
                )
            }
            if !grantable.contains(scope) {
                return FieldError(pointer: "/scopes/\(index)", message: "`\(scope)` is not yours to grant")
            }
            return nil
        }
    }

    static func facts(_ key: APIKeyRecord) -> Events.KeyFacts {
        Events.KeyFacts(
            id: key.id, prefix: key.prefix, role: key.role, scopes: key.scopes,
            serviceAccountID: key.serviceAccountID, isBootstrap: key.isBootstrap)
    }
}
