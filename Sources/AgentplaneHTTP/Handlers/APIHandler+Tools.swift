import AgentplaneAPI
import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import Foundation
import OpenAPIRuntime

extension APIHandler {
    // MARK: Secrets

    func listSecrets(_ input: Operations.ListSecrets.Input) async throws -> Operations.ListSecrets.Output {
        let page = try await useCases.listSecrets(
            after: input.query.cursor, limit: try Paging.limit(input.query.limit),
            tenant: try Self.tenant(input.headers.xTenantID), for: try caller("listSecrets"))
        return .ok(
            .init(
                body: .json(
                    .init(
                        secrets: page.items.map(Components.Schemas.Secret.init),
                        nextCursor: page.hasMore ? page.items.last?.name : nil))))
    }

    func createSecret(_ input: Operations.CreateSecret.Input) async throws -> Operations.CreateSecret.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let secret = try await useCases.createSecret(
            name: body.name, value: body.value, tenant: try Self.tenant(input.headers.xTenantID),
            by: try caller("createSecret"))
        return .created(.init(body: .json(.init(secret))))
    }

    func getSecret(_ input: Operations.GetSecret.Input) async throws -> Operations.GetSecret.Output {
        let secret = try await useCases.secret(
            input.path.secretName, tenant: try Self.tenant(input.headers.xTenantID), for: try caller("getSecret"))
        return .ok(.init(body: .json(.init(secret))))
    }

    func updateSecret(_ input: Operations.UpdateSecret.Input) async throws -> Operations.UpdateSecret.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let secret = try await useCases.updateSecret(
            input.path.secretName, value: body.value, tenant: try Self.tenant(input.headers.xTenantID),
            by: try caller("updateSecret"))
        return .ok(.init(body: .json(.init(secret))))
    }

    func deleteSecret(_ input: Operations.DeleteSecret.Input) async throws -> Operations.DeleteSecret.Output {
        try await useCases.deleteSecret(
            input.path.secretName, tenant: try Self.tenant(input.headers.xTenantID), by: try caller("deleteSecret"))
        return .noContent(.init())
    }

    // MARK: MCP servers

    func listMCPServers(_ input: Operations.ListMCPServers.Input) async throws -> Operations.ListMCPServers.Output {
        let page = try await useCases.listMCPServers(
            after: input.query.cursor, limit: try Paging.limit(input.query.limit),
            tenant: try Self.tenant(input.headers.xTenantID), for: try caller("listMCPServers"))
        return .ok(
            .init(
                body: .json(
                    .init(
                        mcpServers: page.items.map(Components.Schemas.MCPServer.init),
                        nextCursor: page.hasMore ? page.items.last?.name : nil))))
    }

    func createMCPServer(_ input: Operations.CreateMCPServer.Input) async throws -> Operations.CreateMCPServer.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let server = try await useCases.createMCPServer(
            Self.fields(body, expectedVersion: nil), tenant: try Self.tenant(input.headers.xTenantID),
            by: try caller("createMCPServer"))
        return .created(.init(headers: .init(eTag: Self.etag(server.version)), body: .json(.init(server))))
    }

    func getMCPServer(_ input: Operations.GetMCPServer.Input) async throws -> Operations.GetMCPServer.Output {
        let server = try await useCases.mcpServer(
            try Self.id(input.path.serverId, "MCP server"), tenant: try Self.tenant(input.headers.xTenantID),
            for: try caller("getMCPServer"))
        return .ok(.init(headers: .init(eTag: Self.etag(server.version)), body: .json(.init(server))))
    }

    func updateMCPServer(_ input: Operations.UpdateMCPServer.Input) async throws -> Operations.UpdateMCPServer.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let server = try await useCases.updateMCPServer(
            try Self.id(input.path.serverId, "MCP server"),
            Self.fields(body, expectedVersion: try input.headers.ifMatch.map(Self.version(fromETag:))),
            tenant: try Self.tenant(input.headers.xTenantID), by: try caller("updateMCPServer"))
        return .ok(.init(headers: .init(eTag: Self.etag(server.version)), body: .json(.init(server))))
    }

    func deleteMCPServer(_ input: Operations.DeleteMCPServer.Input) async throws -> Operations.DeleteMCPServer.Output {
        try await useCases.deleteMCPServer(
            try Self.id(input.path.serverId, "MCP server"), tenant: try Self.tenant(input.headers.xTenantID),
            by: try caller("deleteMCPServer"))
        return .noContent(.init())
    }

    func listMCPServerTools(_ input: Operations.ListMCPServerTools.Input) async throws
        -> Operations.ListMCPServerTools.Output
    {
        let tools = try await useCases.mcpServerTools(
            try Self.id(input.path.serverId, "MCP server"), tenant: try Self.tenant(input.headers.xTenantID),
            for: try caller("listMCPServerTools"))
        return .ok(
            .init(
                body: .json(
                    .init(
                        tools: tools.map {
                            .init(
                                name: $0.name, description: $0.description,
                                inputSchema: Self.object($0.inputSchema.objectValue ?? [:]))
                        }))))
    }

    static func fields(_ body: Components.Schemas.NewMCPServer, expectedVersion: Int64?) -> MCPServerFields {
        MCPServerFields(
            name: body.name, transport: body.transport.rawValue, command: body.command, arguments: body.args ?? [],
            environment: body.env?.additionalProperties ?? [:], url: body.url,
            headers: body.headers?.additionalProperties ?? [:], expectedVersion: expectedVersion)
    }
}

extension Components.Schemas.Secret {
    init(_ secret: TenantSecret) {
        self.init(
            name: secret.name, version: Int(secret.version), createdAt: secret.createdAt.date,
            updatedAt: secret.updatedAt.date)
    }
}

extension Components.Schemas.MCPServer {
    init(_ server: MCPServerConfig) {
        self.init(
            id: server.id.lowercasedString, tenantId: server.tenantID.description, name: server.name,
            transport: .init(rawValue: server.transport.rawValue)!, command: server.command, args: server.arguments,
            env: .init(additionalProperties: server.environment), url: server.url,
            headers: .init(additionalProperties: server.headers), version: Int(server.version),
            createdAt: server.createdAt.date, updatedAt: server.updatedAt.date)
    }
}
