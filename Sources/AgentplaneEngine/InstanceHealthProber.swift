import AgentplaneApp
import AgentplaneCore
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// Asks what an instance depends on whether it is ready, by its runtime: an `http` service's health URL
/// (`endpoint` + `health_path`; 2xx and 3xx are healthy), a `chat` model's endpoint (`GET <endpoint>/models`),
/// a `pipeline`'s MCP servers (each lists its tools) and, when its `llm.chat` steps use the instance's model,
/// that model's endpoint. Every URL passes the outbound policy (SSRF); each question may take `timeout`.
struct InstanceHealthProber: Sendable {
    let useCases: UseCases
    let outbound: OutboundPolicy
    let timeout: Duration
    let chat: ChatModelClient

    /// The tools that need nothing outside the platform, or only what the instance's configuration names.
    static let builtIns = BuiltInTools.names.union(["llm.chat"])

    init(useCases: UseCases, outbound: OutboundPolicy, timeout: Duration, logger: Logger) {
        self.useCases = useCases
        self.outbound = outbound
        self.timeout = timeout
        self.chat = ChatModelClient(httpClient: BuiltInToolbox.outboundClient, outbound: outbound, logger: logger)
    }

    /// Whether the instance is healthy, and what was asked and answered.
    func probe(_ instance: Instance) async -> (healthy: Bool, detail: String) {
        let runtime: InstanceRuntime
        switch InstanceRuntime.resolve(config: instance.config, pipelineConfig: instance.pipelineConfig) {
        case .failure(let error): return (false, "configuration: \(error.description)")
        case .success(nil): return (true, "no runtime declared: nothing to probe")
        case .success(let resolved?): runtime = resolved
        }
        switch runtime.kind {
        case .http:
            guard let endpoint = runtime.endpoint else { return (false, "configuration: no endpoint") }
            return await http(InstanceRuntime.url(endpoint, path: instance.config["health_path"]))
        case .chat:
            guard let endpoint = runtime.endpoint else { return (false, "configuration: no endpoint") }
            return await model(endpoint, instance: instance)
        case .pipeline:
            return await pipeline(runtime.pipeline?.steps ?? [], instance: instance)
        }
    }

    /// GET the URL once, redirects not followed: healthy on 2xx and 3xx.
    func http(_ url: URL) async -> (healthy: Bool, detail: String) {
        do {
            try await outbound.check(url)
        } catch {
            return (false, "GET \(url.absoluteString) refused: \(error.description)")
        }
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .GET
        request.headers.add(name: "User-Agent", value: "agentplane-health")
        let seconds = timeout.components
        let amount = TimeAmount.milliseconds(seconds.seconds * 1000 + seconds.attoseconds / 1_000_000_000_000_000)
        do {
            let response = try await OutboundTracing.withClientSpan("instance.health", request) {
                try await BuiltInToolbox.outboundClient.execute($0, timeout: amount)
            }
            _ = try? await response.body.collect(upTo: 64 << 10)
            let code = Int(response.status.code)
            return ((200..<400).contains(code), "GET \(url.absoluteString) answered \(code)")
        } catch {
            return (false, "GET \(url.absoluteString) did not answer: \(error)")
        }
    }

    /// The model endpoint's readiness, with the key the instance's `api_key_secret` names.
    func model(_ endpoint: URL, instance: Instance) async -> (healthy: Bool, detail: String) {
        var apiKey: String?
        if case .string(let name)? = instance.config["api_key_secret"] {
            do {
                apiKey = try await useCases.secretValues([name], tenant: instance.tenantID)[name]
            } catch {
                return (false, "model endpoint: the secret '\(name)' could not be read")
            }
            guard apiKey != nil else {
                return (false, "model endpoint: the tenant has no secret named '\(name)' (api_key_secret)")
            }
        }
        let (ready, detail) = await chat.probe(baseURL: endpoint, apiKey: apiKey, timeout: timeout)
        return (ready, "model endpoint \(endpoint.host ?? endpoint.absoluteString): \(detail)")
    }

    /// Every MCP server the steps use lists its tools; an `llm.chat` step's model endpoint answers when the
    /// instance's configuration names one. Built-in tools need nothing.
    func pipeline(_ steps: [PipelineStep], instance: Instance) async -> (healthy: Bool, detail: String) {
        var results: [(healthy: Bool, detail: String)] = []
        let servers = Set(steps.filter { !Self.builtIns.contains($0.uses) && !$0.server.isEmpty }.map(\.server))
            .sorted()
        for name in servers { results.append(await server(name, tenant: instance.tenantID)) }
        if steps.contains(where: { $0.uses == "llm.chat" }),
            let endpoint = InstanceDecisions.endpointURL(instance.config["endpoint"])
        {
            results.append(await model(endpoint, instance: instance))
        }
        guard !results.isEmpty else { return (true, "no external dependencies") }
        return (results.allSatisfy(\.healthy), results.map(\.detail).joined(separator: "; "))
    }

    /// The tenant's MCP server `name` lists its tools within the timeout.
    func server(_ name: String, tenant: TenantID) async -> (healthy: Bool, detail: String) {
        let found: MCPServerConfig?
        do {
            found = try await useCases.store.mcpServers.find(tenant: tenant, name: name)
        } catch {
            return (false, "MCP server '\(name)' could not be read")
        }
        guard let server = found else { return (false, "the tenant has no MCP server named '\(name)'") }
        let list = useCases.toolSettings.listTools
        do {
            let tools = try await withTimeout(timeout, "MCP server '\(name)'") { try await list(server) }
            return (true, "MCP server '\(name)' lists \(tools.count) tools")
        } catch {
            return (false, "MCP server '\(name)': \(error)")
        }
    }
}
