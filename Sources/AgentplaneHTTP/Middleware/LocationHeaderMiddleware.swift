import Foundation
import HTTPTypes
import OpenAPIRuntime

/// Writes a `Location` header as the path it is: the generated server encodes header values as a URI
/// template's simple style (`/` becomes `%2F`), which would turn `/api/v1/commands/<id>` into one opaque
/// segment. The handlers only ever put this API's own paths there.
struct LocationHeaderMiddleware: ServerMiddleware {
    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var (response, responseBody) = try await next(request, body, metadata)
        if let location = response.headerFields[.location], let decoded = location.removingPercentEncoding,
            decoded != location
        {
            response.headerFields[.location] = decoded
        }
        return (response, responseBody)
    }
}
