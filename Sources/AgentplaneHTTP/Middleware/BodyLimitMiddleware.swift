import AgentplaneCore
import HTTPTypes
import Hummingbird
import NIOCore

/// Refuses bodies over the configured limit with 413 before any handler reads them (gateway calls excepted).
struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let maximumBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        // The gateway streams its bodies under its own limit.
        if GatewayPath.matches(request.uri.path) { return try await next(request, context) }
        // An HTTPError, not an AgentplaneError: this runs outside the problem mapping, and the metrics
        // middleware records an HTTPError's real status.
        let tooLarge = HTTPError(.contentTooLarge, message: "The request body is larger than \(maximumBytes) bytes.")
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maximumBytes {
            throw tooLarge
        }
        // Always buffer, even without Content-Length: a body can be read only once otherwise.
        var request = request
        do {
            _ = try await request.collectBody(upTo: maximumBytes)
        } catch is NIOTooManyBytesError {
            throw tooLarge
        }
        return try await next(request, context)
    }
}
