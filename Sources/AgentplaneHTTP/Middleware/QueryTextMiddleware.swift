import AgentplaneCore
import Hummingbird

/// Refuses query parameters that hold a NUL character (`%00`) with a 400 naming them: no filter can
/// mean one, and PostgreSQL cannot compare text that holds one, so it would surface as a 500.
struct QueryTextMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let query = request.uri.query, query.range(of: "%00", options: .caseInsensitive) != nil else {
            return try await next(request, context)
        }
        var names: [String] = []
        for (name, value) in request.uri.queryParameters where value.contains("\u{0}") {
            if !names.contains(String(name)) { names.append(String(name)) }
        }
        guard !names.isEmpty else { return try await next(request, context) }
        throw AgentplaneError.badQuery(
            names.map { FieldError(pointer: $0, message: "must not contain the NUL character") })
    }
}
