import HTTPTypes
import Hummingbird

/// Seed 004's unprefixed paths, served as aliases of the canonical routes (`/tasks…` → `/api/v1/tasks…`,
/// `/runs…` → `/api/v1/runs…`, `/events` → `/api/v1/events`): the request is rewritten before routing, so
/// the alias goes through the same middleware (authentication, rate limits, idempotency) and handler.
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
        return nil
    }
}
