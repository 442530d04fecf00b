import AgentplaneAPI
import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import Foundation

extension APIHandler {
    func listServiceAccounts(_ input: Operations.ListServiceAccounts.Input) async throws
        -> Operations.ListServiceAccounts.Output
    {
        let accounts = try await useCases.listServiceAccounts(
            tenant: try Self.tenant(input.headers.xTenantID), for: try caller("listServiceAccounts"))
        return .ok(.init(body: .json(.init(serviceAccounts: accounts.map(Components.Schemas.ServiceAccount.init)))))
    }

    func createServiceAccount(_ input: Operations.CreateServiceAccount.Input) async throws
        -> Operations.CreateServiceAccount.Output
    {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let command = CreateServiceAccount(
            name: body.name,
            description: body.description,
            role: body.role.flatMap { Role(rawValue: $0.rawValue) },
            scopes: body.scopes?.map(\.rawValue)
        )
        let account = try await useCases.createServiceAccount(
            command, tenant: try Self.tenant(input.headers.xTenantID), by: try caller("createServiceAccount"))
        return .created(.init(body: .json(.init(account))))
    }

    func getServiceAccount(_ input: Operations.GetServiceAccount.Input) async throws
        -> Operations.GetServiceAccount.Output
    {
        let account = try await useCases.serviceAccount(
            try Self.id(input.path.accountId, "service account"), tenant: try Self.tenant(input.headers.xTenantID),
            for: try caller("getServiceAccount"))
        return .ok(.init(body: .json(.init(account))))
    }

    func deleteServiceAccount(_ input: Operations.DeleteServiceAccount.Input) async throws
        -> Operations.DeleteServiceAccount.Output
    {
        try await useCases.deleteServiceAccount(
            try Self.id(input.path.accountId, "service account"), tenant: try Self.tenant(input.headers.xTenantID),
            by: try caller("deleteServiceAccount"))
        keyCache.removeAll()
        return .noContent(.init())
    }

    func listServiceAccountKeys(_ input: Operations.ListServiceAccountKeys.Input) async throws
        -> Operations.ListServiceAccountKeys.Output
    {
        let keys = try await useCases.listKeys(
            account: try Self.id(input.path.accountId, "service account"),
            tenant: try Self.tenant(input.headers.xTenantID), for: try caller("listServiceAccountKeys"))
        return .ok(.init(body: .json(.init(keys: keys.map(Components.Schemas.APIKey.init)))))
    }

    func createServiceAccountKey(_ input: Operations.CreateServiceAccountKey.Input) async throws
        -> Operations.CreateServiceAccountKey.Output
    {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let command = CreateAPIKey(
            name: body.name, scopes: body.scopes?.map(\.rawValue), expiresInSeconds: body.expiresInSeconds)
        let (token, key) = try await useCases.createKey(
            command, account: try Self.id(input.path.accountId, "service account"),
            tenant: try Self.tenant(input.headers.xTenantID), by: try caller("createServiceAccountKey"))
        return .created(.init(body: .json(.init(key: token.text, apiKey: .init(key)))))
    }

    func revokeServiceAccountKey(_ input: Operations.RevokeServiceAccountKey.Input) async throws
        -> Operations.RevokeServiceAccountKey.Output
    {
        let account = try Self.id(input.path.accountId, "service account")
        let caller = try caller("revokeServiceAccountKey")
        let tenant = try Self.tenant(input.headers.xTenantID)
        // The account answers first, so an unknown account is a 404 whatever the key id is.
        _ = try await useCases.serviceAccount(account, tenant: tenant, for: caller)
        try await useCases.revokeKey(try Self.id(input.path.keyId, "key"), account: account, tenant: tenant, by: caller)
        keyCache.removeAll()
        return .noContent(.init())
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
