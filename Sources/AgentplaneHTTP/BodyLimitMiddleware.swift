import AgentplaneCore
import HTTPTypes
import Hummingbird
import NIOCore

/// Refuses bodies over the configured limit with 413 before any handler reads them.
struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let maximumBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        // An HTTPError, not an AgentplaneError: this runs outside the problem mapping, and the metrics
        // middleware records an HTTPError's real status.
        let tooLarge = HTTPError(.contentTooLarge, message: "The request body is larger than \(maximumBytes) bytes.")
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maximumBytes {
            throw tooLarge
        }
        guard request.headers[.contentLength] != nil || request.headers[.transferEncoding] != nil else {
            return try await next(request, context)
        }
        var request = request
        do {
            _ = try await request.collectBody(upTo: maximumBytes)
        } catch is NIOTooManyBytesError {
            throw tooLarge
        }
        return try await next(request, context)
    }
}
