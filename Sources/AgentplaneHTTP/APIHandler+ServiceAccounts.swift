import AgentplaneAPI
import AgentplaneCore
import AgentplaneStore
import Foundation

extension APIHandler {
    func listServiceAccounts(_ input: Operations.ListServiceAccounts.Input) async throws
        -> Operations.ListServiceAccounts.Output
    {
        let tenant = try await actingTenant(input.headers.xTenantID)
        let accounts = try await store.serviceAccounts.list(tenant: tenant)
        return .ok(.init(body: .json(.init(serviceAccounts: accounts.map(Components.Schemas.ServiceAccount.init)))))
    }

    func createServiceAccount(_ input: Operations.CreateServiceAccount.Input) async throws
        -> Operations.CreateServiceAccount.Output
    {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let tenant = try await actingTenant(input.headers.xTenantID)
        let principal = try RequestScope.requirePrincipal()
        let role = body.role.flatMap { Role(rawValue: $0.rawValue) } ?? .member
        let grantable = Scope.grantable(by: principal.scopes, role: role)
        let scopes = body.scopes?.map(\.rawValue) ?? grantable.sorted()
        var errors = TenantValidation.nameErrors(body.name)
        if role == .admin, !principal.scopes.contains("admin:*") {
            errors.append(FieldError(pointer: "/role", message: "only a credential with `admin:*` may create admins"))
        }
        if let description = body.description, description.unicodeScalars.count > 1000 {
            errors.append(FieldError(pointer: "/description", message: "must be at most 1000 characters"))
        }
        if let description = body.description, description.unicodeScalars.contains("\u{0}") {
            errors.append(FieldError(pointer: "/description", message: "must not contain the NUL character"))
        }
        errors += Self.scopeErrors(scopes, role: role, grantable: grantable)
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        let now = Timestamp.now()
        let account = ServiceAccount(
            id: UUIDv7.make(at: now),
            tenantID: tenant,
            name: body.name,
            description: body.description ?? "",
            role: role,
            scopes: scopes,
            createdAt: now
        )
        let subject = Auditing.Subject(
            operation: "createServiceAccount",
            tenant: tenant,
            resourceType: "service_account",
            resourceID: account.id.lowercasedString
        )
        do {
            try await store.serviceAccounts.create(
                account,
                record: auditing.record(
                    subject,
                    status: 201,
                    events: [
                        Self.accountEvent("service_account.created", account, context: auditing.eventContext())
                    ]
                )
            )
        } catch let error as StoreError
            where error.kind == .uniqueViolation(constraint: "service_accounts_tenant_id_name")
        {
            throw AgentplaneError(
                .conflict,
                "A service account named `\(account.name)` already exists in this tenant.",
                fieldErrors: [FieldError(pointer: "/name", message: "is taken")]
            )
        }

        return .created(.init(body: .json(.init(account))))
    }

    func getServiceAccount(_ input: Operations.GetServiceAccount.Input) async throws
        -> Operations.GetServiceAccount.Output
    {
        let tenant = try await actingTenant(input.headers.xTenantID)
        let account = try await findAccount(tenant: tenant, id: input.path.accountId)
        return .ok(.init(body: .json(.init(account))))
    }

    func deleteServiceAccount(_ input: Operations.DeleteServiceAccount.Input) async throws
        -> Operations.DeleteServiceAccount.Output
    {
        let tenant = try await actingTenant(input.headers.xTenantID)
        let account = try await findAccount(tenant: tenant, id: input.path.accountId)
        let subject = Auditing.Subject(
            operation: "deleteServiceAccount",
            tenant: tenant,
            resourceType: "service_account",
            resourceID: account.id.lowercasedString
        )
        try await store.serviceAccounts.delete(
            tenant: tenant,
            id: account.id,
            at: .now(),
            record: auditing.record(
                subject,
                status: 204,
                events: [Self.accountEvent("service_account.deleted", account, context: auditing.eventContext())]
            )
        )

        return .noContent(.init())
    }

    func listServiceAccountKeys(_ input: Operations.ListServiceAccountKeys.Input) async throws
        -> Operations.ListServiceAccountKeys.Output
    {
        let tenant = try await actingTenant(input.headers.xTenantID)
        let account = try await findAccount(tenant: tenant, id: input.path.accountId)
        let keys = try await store.serviceAccounts.listKeys(tenant: tenant, account: account.id)
        return .ok(.init(body: .json(.init(keys: keys.map(Components.Schemas.APIKey.init)))))
    }

    func createServiceAccountKey(_ input: Operations.CreateServiceAccountKey.Input) async throws
        -> Operations.CreateServiceAccountKey.Output
    {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let tenant = try await actingTenant(input.headers.xTenantID)
        let account = try await findAccount(tenant: tenant, id: input.path.accountId)
        let principal = try RequestScope.requirePrincipal()
        // A key holds at most its account's scopes, and the caller can hand on only what it may grant.
        let grantable = Scope.grantable(by: principal.scopes, role: account.role).intersection(account.scopes)
        let scopes = body.scopes?.map(\.rawValue) ?? grantable.sorted()
        var errors = body.name.map { TenantValidation.nameErrors($0) } ?? []
        errors += Self.scopeErrors(scopes, role: account.role, grantable: grantable)
        if let seconds = body.expiresInSeconds, !(60...315_360_000).contains(seconds) {
            errors.append(FieldError(pointer: "/expires_in_seconds", message: "must be between 60 and 315360000"))
        }
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        let now = Timestamp.now()
        let token = APIKeyToken.generate()
        let key = APIKeyRecord(
            id: UUIDv7.make(at: now),
            tenantID: tenant,
            prefix: token.prefix,
            secretHash: APIKeyAuthenticator.hash(token),
            name: body.name ?? "\(account.name) key",
            role: account.role,
            scopes: scopes,
            isBootstrap: false,
            createdAt: now,
            expiresAt: body.expiresInSeconds.map {
                Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch + Int64($0) * 1_000_000)
            },
            serviceAccountID: account.id
        )
        let subject = Auditing.Subject(
            operation: "createServiceAccountKey",
            tenant: tenant,
            resourceType: "api_key",
            resourceID: key.id.lowercasedString
        )
        try await store.serviceAccounts.createKey(
            key,
            record: auditing.record(
                subject,
                status: 201,
                events: [Self.keyEvent("api_key.created", key, context: auditing.eventContext())],
                details: .object(["prefix": .string(key.prefix)])
            )
        )

        return .created(.init(body: .json(.init(key: token.text, apiKey: .init(key)))))
    }

    func revokeServiceAccountKey(_ input: Operations.RevokeServiceAccountKey.Input) async throws
        -> Operations.RevokeServiceAccountKey.Output
    {
        let tenant = try await actingTenant(input.headers.xTenantID)
        let account = try await findAccount(tenant: tenant, id: input.path.accountId)
        guard let keyID = UUID(uuidString: input.path.keyId) else {
            throw AgentplaneError(.notFound, "No such key.")
        }
        let subject = Auditing.Subject(
            operation: "revokeServiceAccountKey",
            tenant: tenant,
            resourceType: "api_key",
            resourceID: keyID.lowercasedString
        )
        try await store.serviceAccounts.revokeKey(
            tenant: tenant,
            account: account.id,
            key: keyID,
            at: .now(),
            record: auditing.record(
                subject,
                status: 204,
                events: [
                    NewEvent(
                        type: "api_key.revoked",
                        subject: "api_keys/\(keyID.lowercasedString)",
                        data: .object([
                            "key_id": .string(keyID.lowercasedString),
                            "service_account_id": .string(account.id.lowercasedString),
                        ]),
                        context: auditing.eventContext()
                    )
                ]
            )
        )

        return .noContent(.init())
    }

    private func findAccount(tenant: TenantID, id: String) async throws -> ServiceAccount {
        guard let uuid = UUID(uuidString: id),
            let account = try await store.serviceAccounts.find(tenant: tenant, id: uuid)
        else { throw AgentplaneError(.notFound, "No such service account.") }
        return account
    }

    /// Field errors for scopes: each must be known, within what `role` may hold, and grantable by the
    /// caller.
    static func scopeErrors(_ scopes: [String], role: Role, grantable: Set<String>) -> [FieldError] {
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

    static func accountEvent(_ type: String, _ account: ServiceAccount, context: EventContext) -> NewEvent {
        NewEvent(
            type: type,
            subject: "service_accounts/\(account.id.lowercasedString)",
            data: .object([
                "service_account_id": .string(account.id.lowercasedString),
                "name": .string(account.name),
                "role": .string(account.role.rawValue),
            ]),
            context: context
        )
    }

    static func keyEvent(_ type: String, _ key: APIKeyRecord, context: EventContext) -> NewEvent {
        NewEvent(
            type: type,
            subject: "api_keys/\(key.id.lowercasedString)",
            data: .object([
                "key_id": .string(key.id.lowercasedString),
                "prefix": .string(key.prefix),
                "role": .string(key.role.rawValue),
                "scopes": .array(key.scopes.map(JSONValue.string)),
                "service_account_id": key.serviceAccountID.map { .string($0.lowercasedString) } ?? .null,
            ]),
            context: context
        )
    }
}

extension Components.Schemas.ServiceAccount {
    init(_ account: ServiceAccount) {
        self.init(
            id: account.id.lowercasedString,
            tenantId: account.tenantID.description,
            name: account.name,
            description: account.description,
            role: .init(rawValue: account.role.rawValue) ?? .member,
            scopes: account.scopes,
            createdAt: account.createdAt.date
        )
    }
}

extension Components.Schemas.APIKey {
    init(_ key: APIKeyRecord) {
        self.init(
            id: key.id.lowercasedString,
            prefix: key.prefix,
            name: key.name,
            scopes: key.scopes,
            createdAt: key.createdAt.date,
            lastUsedAt: key.lastUsedAt?.date,
            expiresAt: key.expiresAt?.date,
            revokedAt: key.revokedAt?.date
        )
    }
}
