import AgentplaneCore
import Hummingbird

/// On a node that runs only the worker (`agentplane worker`), answers everything but the probes,
/// `/version` and `/metrics` with a 404 problem saying where the API is: the port stays useful to
/// orchestrators and Prometheus, and no tenant request is served by a node not meant to serve it.
struct WorkerNodeMiddleware<Context: RequestContext>: RouterMiddleware {
    static var servedPaths: Set<String> {
        ["/health", "/health/live", "/healthz", "/health/ready", "/readyz", "/internal/health", "/version", "/metrics"]
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard Self.servedPaths.contains(request.uri.path) else {
            throw AgentplaneError(
                .routeNotFound,
                "This node runs the job engine only (agentplane worker); the API is served by agentplane serve.")
        }
        return try await next(request, context)
    }
}
