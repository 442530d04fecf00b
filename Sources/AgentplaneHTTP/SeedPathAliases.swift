import HTTPTypes
import Hummingbird

/// Seed paths served as aliases of the canonical routes — seed 004's unprefixed paths (`/tasks…` →
/// `/api/v1/tasks…`, `/runs…` → `/api/v1/runs…`, `/events` → `/api/v1/events`), seed 003's runtime routes on
/// an "agent" (`/api/v1/agents/{id}/run` → `/api/v1/instances/{id}/runs`, see `agentRuntimePath`) and `/redoc`
/// (→ `/docs`): the request is rewritten before routing, so the alias goes through the same middleware
/// (authentication, rate limits, idempotency) and handler.
package struct SeedPathAliases<Inner: HTTPResponderBuilder>: HTTPResponderBuilder
where Inner.Responder.Context == AgentplaneRequestContext {
    let inner: Inner

    /// Wraps the router.
    package init(_ inner: Inner) { self.inner = inner }

    package func buildResponder() -> Responder { Responder(inner: inner.buildResponder()) }

    /// Rewrites an alias path, then answers with the router's responder.
    package struct Responder: HTTPResponder {
        let inner: Inner.Responder

        package func respond(to request: Request, context: AgentplaneRequestContext) async throws -> Response {
            guard let path = request.head.path, let canonical = SeedPathAliases.canonical(path) else {
                return try await inner.respond(to: request, context: context)
            }
            var head = request.head
            head.path = canonical
            return try await inner.respond(to: Request(head: head, body: request.body), context: context)
        }
    }

    /// The canonical path of an alias path (query kept), or nil for any other path.
    package static func canonical(_ path: String) -> String? {
        for prefix in ["/tasks", "/runs", "/events"] where path.hasPrefix(prefix) {
            let rest = path.dropFirst(prefix.count)
            if rest.isEmpty || rest.first == "/" || rest.first == "?" { return "/api/v1" + path }
        }
        if path.hasPrefix(agentsPrefix) { return agentRuntimePath(path) }
        if path == "/redoc" || path.hasPrefix("/redoc?") { return "/docs" + path.dropFirst("/redoc".count) }
        return nil
    }

    static var agentsPrefix: String { "/api/v1/agents/" }

    /// Seed 003's runtime routes on its deployable "agent", which is Agentplane's instance (the catalog owns
    /// `/api/v1/agents/{id}` itself): `/api/v1/agents/{id}/activate|deactivate|health|runs|runs/{run_id}` →
    /// the same sub-path of `/api/v1/instances/{id}`, and `/api/v1/agents/{id}/run` → `/api/v1/instances/{id}/runs`.
    /// The catalog's own sub-paths (`/versions`) and every other path stay as they are.
    static func agentRuntimePath(_ path: String) -> String? {
        let query = path.firstIndex(of: "?").map { String(path[$0...]) } ?? ""
        let segments = path.dropFirst(agentsPrefix.count).prefix { $0 != "?" }.split(
            separator: "/", omittingEmptySubsequences: false)
        guard segments.count >= 2, !segments[0].isEmpty else { return nil }
        let id = segments[0]
        let rest: String
        switch (segments.count, segments[1]) {
        case (2, "activate"), (2, "deactivate"), (2, "health"), (2, "runs"): rest = String(segments[1])
        case (2, "run"): rest = "runs"
        case (3, "runs") where !segments[2].isEmpty: rest = "runs/\(segments[2])"
        default: return nil
        }
        return "/api/v1/instances/\(id)/\(rest)\(query)"
    }
}
