import AgentplaneCore
import AgentplaneStore
import HTTPTypes
import Hummingbird
import Logging
import OpenAPIRuntime

/// Turns every thrown error into an RFC 9457 problem response, including router 404s (and 405s when
/// the path exists with other methods). Sits inside the metrics middleware so metrics see real statuses.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = routes.allowedMethods(path: request.uri.path)
            guard !allowed.isEmpty else {
                let problem = AgentplaneError(.routeNotFound, "No route matches \(request.uri.path).")
                return Problem(problem, path: request.uri.path, scope: RequestScope.current).response()
            }
            let problem = AgentplaneError(
                .methodNotAllowed,
                "\(request.uri.path) supports \(allowed.joined(separator: ", ")), not \(request.method.rawValue)."
            )
            return Problem(problem, path: request.uri.path, scope: RequestScope.current)
                .response(headers: [.allow: allowed.joined(separator: ", ")])
        } catch {
            var (clientError, isInternal) = ErrorMapping.clientError(for: error)
            if clientError.code == .badRequest, clientError.fieldErrors.first?.pointer == "",
                let operation = (error as? ServerError)?.operationID
            {
                // The URI decoder does not say which parameter failed: find it from the contract.
                let problems = routes.invalidQueryParameters(operationID: operation, query: request.uri.queryParameters)
                if !problems.isEmpty {
                    clientError.detail = problems.map { "Query parameter `\($0.pointer)` \($0.message)." }
                        .joined(separator: " ")
                    clientError.fieldErrors = problems
                }
            }
            return Self.problemResponse(
                for: clientError,
                isInternal: isInternal,
                cause: error,
                path: request.uri.path,
                scope: RequestScope.current,
                logger: logger
            )
        }
    }

    /// The problem response for `error`; internal causes are logged with the trace id, never sent.
    static func problemResponse(for error: any Error, path: String, scope: RequestScope, logger: Logger) -> Response {
        let (clientError, isInternal) = ErrorMapping.clientError(for: error)
        return problemResponse(
            for: clientError,
            isInternal: isInternal,
            cause: error,
            path: path,
            scope: scope,
            logger: logger
        )
    }

    static func problemResponse(
        for clientError: AgentplaneError,
        isInternal: Bool,
        cause error: any Error,
        path: String,
        scope: RequestScope,
        logger: Logger
    ) -> Response {
        if isInternal {
            logger.error(
                "request failed",
                metadata: [
                    "request_id": .string(scope.requestID),
                    "trace_id": .string(scope.traceID),
                    "error": .string(Self.logDescription(of: error)),
                ]
            )
        }
        var headers: HTTPFields = [:]
        if clientError.code == .unauthenticated {
            headers[.wwwAuthenticate] = #"Bearer realm="agentplane""#
        }
        if clientError.code == .rateLimited, case .int(let seconds)? = clientError.details["retry_after_seconds"] {
            headers[.retryAfter] = String(max(1, seconds))
        }
        return Problem(clientError, path: path, scope: scope).response(headers: headers)
    }

    /// What operators see of an internal error: the cause, never the request (its headers carry
    /// credentials).
    static func logDescription(of error: any Error) -> String {
        if let serverError = error as? ServerError {
            return "\(serverError.operationID): \(logDescription(of: serverError.underlyingError))"
        }
        if let storeError = error as? StoreError { return storeError.debugDescription }
        return String(reflecting: error)
    }
}
