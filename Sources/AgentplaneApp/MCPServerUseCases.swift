import AgentplaneCore
import AgentplaneStore
import Foundation

/// An MCP server registration as a client writes it.
public struct MCPServerFields: Sendable, Hashable {
    /// Unique in the tenant.
    public var name: String
    /// `stdio` or `http`.
    public var transport: String
    /// `stdio`: the program.
    public var command: String?
    /// `stdio`: its arguments.
    public var arguments: [String]
    /// `stdio`: its environment.
    public var environment: [String: String]
    /// `http`: the endpoint.
    public var url: String?
    /// `http`: headers.
    public var headers: [String: String]
    /// `If-Match` on a replace.
    public var expectedVersion: Int64?

    /// Creates the fields.
    public init(
        name: String, transport: String, command: String? = nil, arguments: [String] = [],
        environment: [String: String] = [:], url: String? = nil, headers: [String: String] = [:],
        expectedVersion: Int64? = nil
    ) {
        self.name = name
        self.transport = transport
        self.command = command
        self.arguments = arguments
        self.environment = environment
        self.url = url
        self.headers = headers
        self.expectedVersion = expectedVersion
    }
}

extension UseCases {
    /// Registers an MCP server (the stdio allow-list and the SSRF guard checked first).
    public func createMCPServer(_ fields: MCPServerFields, tenant named: TenantID?, by caller: Caller) async throws
        -> MCPServerConfig
    {
        let tenant = try await actingTenant(named, for: caller)
        let now = clock.now()
        let server = try await checkedServer(
            fields, id: UUIDv7.make(), tenant: tenant, version: 1, createdAt: now, now: now)
        try await mappingConflicts([.mcpServerName: ("The tenant already has an MCP server with this name.", "/name")])
        {
            try await store.mcpServers.create(
                server, record: caller.record(Self.resource(server), status: 201, events: [], at: now))
        }
        return server
    }

    /// The tenant's MCP servers by name (asked with one extra row).
    public func listMCPServers(after: String?, limit: Int, tenant named: TenantID?, for caller: Caller) async throws
        -> Page<MCPServerConfig>
    {
        let tenant = try await actingTenant(named, for: caller)
        return Page(
            fetched: try await store.mcpServers.list(tenant: tenant, after: after, limit: limit + 1), limit: limit)
    }

    /// One MCP server (else 404).
    public func mcpServer(_ id: UUID, tenant named: TenantID?, for caller: Caller) async throws -> MCPServerConfig {
        let tenant = try await actingTenant(named, for: caller)
        guard let server = try await store.mcpServers.find(tenant: tenant, id: id) else {
            throw AgentplaneError(.notFound, "No such MCP server.")
        }
        return server
    }

    /// Replaces an MCP server's settings.
    public func updateMCPServer(_ id: UUID, _ fields: MCPServerFields, tenant named: TenantID?, by caller: Caller)
        async throws -> MCPServerConfig
    {
        let current = try await mcpServer(id, tenant: named, for: caller)
        let now = clock.now()
        let expected = fields.expectedVersion ?? current.version
        let server = try await checkedServer(
            fields, id: current.id, tenant: current.tenantID, version: current.version + 1,
            createdAt: current.createdAt, now: now)
        try await checkingVersion(of: "MCP server", expected: expected, current: current.version) {
            try await mappingConflicts([
                .mcpServerName: ("The tenant already has an MCP server with this name.", "/name")
            ]) {
                try await store.mcpServers.update(
                    server, expectedVersion: expected,
                    record: caller.record(Self.resource(server), status: 200, events: [], at: now))
            }
        }
        return server
    }

    /// Removes an MCP server.
    public func deleteMCPServer(_ id: UUID, tenant named: TenantID?, by caller: Caller) async throws {
        let server = try await mcpServer(id, tenant: named, for: caller)
        let now = clock.now()
        try await store.mcpServers.delete(
            tenant: server.tenantID, id: server.id,
            record: caller.record(Self.resource(server), status: 204, events: [], at: now))
    }

    /// The server's tools, asked of the server (502 when it cannot be reached).
    public func mcpServerTools(_ id: UUID, tenant named: TenantID?, for caller: Caller) async throws
        -> [ToolDescriptor]
    {
        let server = try await mcpServer(id, tenant: named, for: caller)
        do {
            return try await toolSettings.listTools(server)
        } catch {
            throw AgentplaneError(.badGateway, "The MCP server '\(server.name)' could not be asked: \(error)")
        }
    }

    func checkedServer(
        _ fields: MCPServerFields, id: UUID, tenant: TenantID, version: Int64, createdAt: Timestamp, now: Timestamp
    ) async throws -> MCPServerConfig {
        guard let transport = MCPServerConfig.Transport(rawValue: fields.transport) else {
            throw AgentplaneError.validation([FieldError(pointer: "/transport", message: "must be stdio or http")])
        }
        let server = MCPServerConfig(
            id: id, tenantID: tenant, name: fields.name, transport: transport, command: fields.command,
            arguments: fields.arguments, environment: fields.environment, url: fields.url, headers: fields.headers,
            version: version, createdAt: createdAt, updatedAt: now)
        var errors = MCPServerConfig.errors(server, stdioAllowList: toolSettings.stdioAllowList)
        if errors.isEmpty, let text = server.url, let url = URL(string: text),
            let refusal = await toolSettings.urlCheck(url)
        {
            errors.append(FieldError(pointer: "/url", message: refusal))
        }
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        return server
    }

    static func resource(_ server: MCPServerConfig) -> AuditedResource {
        AuditedResource(tenant: server.tenantID, type: "mcp_server", id: server.id.lowercasedString)
    }
}
