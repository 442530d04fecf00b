import AgentplaneApp
import AgentplaneCore
import AgentplaneMCP
import AgentplaneStore
import Foundation
import Logging
import ServiceLifecycle
import Tracing

/// The tenants' MCP servers as tools: `<server>.<tool>` is looked up by name in the calling tenant, its
/// `${secrets.NAME}` settings rendered, and called through the process's connection pool (stdio children
/// kept alive and reused, restarted when they die, killed at shutdown).
public struct MCPBridge: ToolInvoker, Service {
    let useCases: UseCases
    let pool: MCPConnectionPool

    /// Creates the bridge over a pool.
    public init(useCases: UseCases, pool: MCPConnectionPool) {
        self.useCases = useCases
        self.pool = pool
    }

    public func call(_ uses: String, input: [String: JSONValue], context: ToolCallContext) async throws -> JSONValue {
        guard let dot = uses.firstIndex(of: ".") else { throw ToolFailure("no tool named '\(uses)'", retryable: false) }
        let name = String(uses[..<dot])
        let tool = String(uses[uses.index(after: dot)...])
        guard let server = try await useCases.store.mcpServers.find(tenant: context.tenant, name: name) else {
            throw ToolFailure("the tenant has no MCP server named '\(name)'", retryable: false)
        }
        let spec = try await spec(server)
        let tools: [MCPToolDescriptor]
        do {
            tools = try await pool.tools(spec)
        } catch {
            throw ToolFailure("MCP server '\(name)': \(error)")
        }
        guard let descriptor = tools.first(where: { $0.name == tool }) else {
            throw ToolFailure("MCP server '\(name)' has no tool '\(tool)'", retryable: false)
        }
        let problems = JSONSchemaCheck.errors(.object(input), against: descriptor.inputSchema, pointer: "")
        if let first = problems.first {
            throw ToolFailure(
                "the input does not fit '\(uses)': \(first.pointer.isEmpty ? "/" : first.pointer) \(first.message)",
                retryable: false)
        }
        let result: MCPToolResult
        do {
            result = try await TraceSpans.child("tools/call \(uses)", ofKind: .client) { span in
                if span.isRecording {
                    span.updateAttributes { attributes in
                        attributes["mcp.method.name"] = "tools/call"
                        attributes["gen_ai.tool.name"] = tool
                        attributes["agentplane.mcp.server"] = name
                    }
                }
                do {
                    let result = try await pool.call(spec, tool: tool, arguments: input, timeout: context.timeout)
                    if result.isError { span.setStatus(SpanStatus(code: .error)) }
                    return result
                } catch {
                    span.setStatus(SpanStatus(code: .error, message: "\(error)"))
                    throw error
                }
            }
        } catch let error as MCPError {
            throw ToolFailure("MCP server '\(name)': \(error)")
        }
        if result.isError {
            throw ToolFailure("'\(uses)' answered an error: \(result.output.jsonText)")
        }
        return result.output
    }

    /// The server's tools (the tools endpoint and the check of a task's steps).
    public func tools(_ server: MCPServerConfig) async throws -> [ToolDescriptor] {
        try await pool.tools(try await spec(server)).map {
            ToolDescriptor(name: $0.name, description: $0.description, inputSchema: $0.inputSchema)
        }
    }

    /// The pool's spec of a server: secrets rendered into its environment and headers; the version changes
    /// with the settings and the secrets' values, so a new value replaces the live connection.
    func spec(_ server: MCPServerConfig) async throws -> MCPServerSpec {
        let secrets = try await useCases.secretValues(server.referencedSecrets, tenant: server.tenantID)
        func render(_ values: [String: String]) throws -> [String: String] {
            try values.mapValues { value in
                do {
                    let rendered = try TemplateRenderer.render(.string(value), in: RenderContext(secrets: secrets))
                    return rendered.stringValue ?? rendered.jsonText
                } catch {
                    throw ToolFailure("MCP server '\(server.name)': \(error)", retryable: false)
                }
            }
        }
        let transport: MCPTransportSpec
        switch server.transport {
        case .stdio:
            transport = .stdio(
                command: server.command ?? "", arguments: server.arguments, environment: try render(server.environment))
        case .http:
            guard let text = server.url, let url = URL(string: text) else {
                throw ToolFailure("MCP server '\(server.name)' has no valid URL", retryable: false)
            }
            transport = .http(url: url, headers: try render(server.headers))
        }
        var hasher = Hasher()
        hasher.combine(server.version)
        hasher.combine(transport)
        return MCPServerSpec(
            id: server.id, version: Int64(truncatingIfNeeded: hasher.finalize()), name: server.name,
            transport: transport)
    }

    /// Keeps the pool until shutdown, then ends every connection (stdio children are killed).
    public func run() async throws {
        try? await gracefulShutdown()
        await pool.shutdown()
    }

    /// The check of a task's steps that name MCP tools: the server exists in the tenant, has the tool, and the
    /// step's `with` fits the tool's input schema (strings with `${…}` are checked once rendered, at run time).
    public func stepCheck(_ steps: [PipelineStep], _ positions: [Int], _ tenant: TenantID) async -> [FieldError] {
        var errors: [FieldError] = []
        for (step, position) in zip(steps, positions) {
            let pointer = "/payload/pipeline/\(position)"
            guard !step.server.isEmpty,
                let server = try? await useCases.store.mcpServers.find(tenant: tenant, name: step.server)
            else {
                errors.append(
                    FieldError(
                        pointer: pointer + "/uses",
                        message: "step '\(step.id)': '\(step.uses)' is not a tool: not a built-in ("
                            + BuiltInTools.names.sorted().joined(separator: ", ")
                            + ") and the tenant has no MCP server named '\(step.server)'"))
                continue
            }
            let tools: [ToolDescriptor]
            do {
                tools = try await self.tools(server)
            } catch {
                errors.append(
                    FieldError(
                        pointer: pointer + "/uses",
                        message:
                            "step '\(step.id)': the tools of MCP server '\(server.name)' could not be listed: \(error)")
                )
                continue
            }
            guard let tool = tools.first(where: { $0.name == step.tool }) else {
                errors.append(
                    FieldError(
                        pointer: pointer + "/uses",
                        message: "step '\(step.id)': MCP server '\(server.name)' has no tool '\(step.tool)' (it has "
                            + tools.map(\.name).joined(separator: ", ") + ")"))
                continue
            }
            errors += JSONSchemaCheck.errors(
                .object(step.with), against: tool.inputSchema, pointer: pointer + "/with", templates: true
            ).map { FieldError(pointer: $0.pointer, message: "step '\(step.id)': \($0.message)") }
        }
        return errors
    }
}
