import AgentplaneCore
import Hummingbird
import NIOCore

/// Checks JSON request bodies against the strict grammar before any decoder sees them, so that
/// lenient parsing (trailing commas) is refused and every syntax error names its position.
struct JSONBodyMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        // Only requests that carry a body: a GET with a stray Content-Type header is still a GET.
        // The gateway's bodies are streamed upstream, or checked by the gateway itself.
        guard [.post, .put, .patch].contains(request.method), !GatewayPath.matches(request.uri.path),
            let contentType = request.headers[.contentType]?.lowercased(),
            contentType.hasPrefix("application/json") || contentType.contains("+json")
        else {
            return try await next(request, context)
        }
        // The body limit middleware has already buffered the body, so reading it here is free.
        var request = request
        let body = try await request.collectBody(upTo: .max)
        if let failure = JSONSyntax.firstError(in: Array(buffer: body)) {
            throw AgentplaneError(
                .malformedJSON,
                "The request body is not valid JSON: \(failure).",
                fieldErrors: [FieldError(pointer: "", message: failure.description)],
                details: ["line": .int(Int64(failure.line)), "column": .int(Int64(failure.column))]
            )
        }
        return try await next(request, context)
    }
}
