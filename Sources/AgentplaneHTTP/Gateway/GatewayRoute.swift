import AgentplaneAPI
import AgentplaneApp
import AgentplaneCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The gateway's paths, as the middleware asks about them.
enum GatewayPath {
    /// Whether `path` is a gateway path: authenticated like the API, its body streamed, never buffered or
    /// checked as JSON by the middleware.
    static func matches(_ path: String) -> Bool { path.hasPrefix("/gateway/") }
}

/// `/gateway/instances/{id}/{path…}`, any method (DESIGN §6; not in the OpenAPI contract): the caller's own
/// tenant's activated instances. An `http` instance is proxied to its endpoint, streamed both ways; a
/// `pipeline` or `chat` instance is run by `POST` (its JSON body is the run's input). The middleware chain runs
/// before it (authentication, rate limits, problems), except the body limit and JSON check, which this route
/// applies itself so the body can stream.
struct GatewayRoute<Context: RequestContext> {
    let useCases: UseCases
    let proxy: GatewayProxy
    /// Where a `pipeline` or `chat` run asked with `Accept: text/event-stream` is streamed from.
    let streams: StreamSettings
    let logger: Logger

    func register(on router: Router<Context>) {
        let methods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete, .head, .options]
        for method in methods {
            router.on("/gateway/instances/:instance", method: method) { request, context in
                try await handle(request, context: context)
            }
            router.on("/gateway/instances/:instance/**", method: method) { request, context in
                try await handle(request, context: context)
            }
        }
    }

    func handle(_ request: Request, context: Context) async throws -> Response {
        let principal = try RequestScope.requirePrincipal()
        guard Scope.allows(principal.scopes, "instances:run") else {
            throw AgentplaneError(
                .insufficientScope, "Gateway calls need the scope `instances:run`.",
                details: ["required_scopes": .array(["instances:run"])])
        }
        let scope = RequestScope.current
        let caller = Caller(
            principal: principal, operation: "callGateway", requestID: scope.requestID,
            clientAddress: scope.clientAddress)
        let idText = context.parameters.get("instance") ?? ""
        guard let id = UUID(canonical: idText) else { throw GatewayDecisions.notActivated }
        let start = ContinuousClock.now
        let metrics = GatewayMetrics(tenant: principal.tenantID, instance: id)
        do {
            let (instance, runtime) = try await useCases.gatewayTarget(id, for: caller)
            let response: Response
            switch runtime.kind {
            case .http:
                let rest = String(request.uri.path.dropFirst("/gateway/instances/\(idText)".count))
                response = try await proxied(request, rest: rest, instance: instance, runtime: runtime)
            case .pipeline, .chat:
                response = try await run(request, instance: instance, runtime: runtime, caller: caller)
            }
            metrics.record(status: Int(response.status.code), since: start)
            return response
        } catch {
            let mapped = ErrorMapping.clientError(for: error).error
            // Unknown and foreign routes are not counted: their ids are the caller's to invent.
            if mapped.code != .instanceNotActivated { metrics.record(status: mapped.code.status, since: start) }
            throw error
        }
    }

    /// An `http` instance: the call goes to `endpoint` + `rest` + the query, streamed both ways.
    func proxied(_ request: Request, rest: String, instance: Instance, runtime: InstanceRuntime) async throws
        -> Response
    {
        let settings = proxy.settings
        let length = request.headers[.contentLength].flatMap(Int.init)
        if let length, length > settings.maximumRequestBytes {
            throw GatewayProxy.requestTooLarge(settings.maximumRequestBytes)
        }
        guard let endpoint = runtime.endpoint,
            let url = Self.upstreamURL(endpoint, rest: rest, query: request.uri.query)
        else { throw AgentplaneError(.badGateway, "The instance's endpoint is not a URL the gateway can call.") }
        // `Transfer-Encoding` is gone by now (a connection header): without a length, a method that carries a
        // body streams it up chunked.
        let hasBody = length.map { $0 > 0 } ?? [.post, .put, .patch].contains(request.method)
        let forwarding = GatewayHeaders.Forwarding(
            clientAddress: RequestScope.current.clientAddress, host: request.head.authority,
            tenant: instance.tenantID, instance: instance.id, trustIncoming: proxy.settings.trustForwardedHeaders)
        let timeout = Duration.milliseconds(Int64(runtime.timeoutSeconds * 1000))
        let call = GatewayProxy.Call(
            url: url, method: request.method,
            headers: GatewayHeaders.upstream(request.headers.map { ($0.name.rawName, $0.value) }, forwarding),
            body: hasBody ? request.body : nil, contentLength: hasBody ? length : nil, timeout: timeout)
        let upstream = try await proxy.send(call)
        let upstreamLength = upstream.headers.first(name: "content-length").flatMap(Int.init)
        if let upstreamLength, upstreamLength > settings.maximumResponseBytes {
            throw AgentplaneError(
                .badGateway,
                "The instance's answer (\(upstreamLength) bytes) is larger than the gateway's limit of "
                    + "\(settings.maximumResponseBytes) bytes.")
        }
        var headers = HTTPFields()
        for (name, value) in GatewayHeaders.downstream(upstream.headers.map { ($0.name, $0.value) }) {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        let body = upstream.body
        let limit = settings.maximumResponseBytes
        let logger = self.logger
        return Response(
            status: HTTPResponse.Status(code: Int(upstream.status.code)), headers: headers,
            body: ResponseBody(contentLength: request.method == .head ? nil : upstreamLength) { writer in
                do {
                    try await UpstreamRelay.copy(body, limit: limit, idle: timeout, to: &writer)
                    try await writer.finish(nil)
                } catch {
                    // The head is sent: the only way left to say the body is incomplete is to end the connection.
                    logger.info(
                        "gateway stream cut",
                        metadata: [
                            "instance_id": .string(instance.id.lowercasedString),
                            "reason": .string(String(describing: type(of: error))),
                        ])
                    throw error
                }
            })
    }

    /// `endpoint` with `rest` appended to its path and the caller's query (else the endpoint's own).
    static func upstreamURL(_ endpoint: URL, rest: String, query: String?) -> URL? {
        guard var components = URLComponents(url: endpoint, resolvingAgainstBaseURL: false) else { return nil }
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        let joined = path + rest
        components.percentEncodedPath = joined.isEmpty ? "/" : joined
        if let query { components.percentEncodedQuery = query }
        return components.url
    }

    /// A `pipeline` or `chat` instance: `POST` runs it with the JSON body as input, and answers the ended run
    /// (200) or, past its timeout (`InstanceRuns.waitLimit`), the run as it is (202).
    func run(_ request: Request, instance: Instance, runtime: InstanceRuntime, caller: Caller) async throws
        -> Response
    {
        guard request.method == .post else {
            let problem = GatewayDecisions.runtimeMethodNotAllowed(runtime.kind, method: request.method.rawValue)
            return Problem(problem, path: request.uri.path, scope: RequestScope.current).response(headers: [
                .allow: "POST"
            ])
        }
        let input = try await Self.input(of: request, limit: proxy.settings.maximumRequestBytes)
        guard let hub = streams.hub else {
            throw AgentplaneError(.shuttingDown, "Runs are not served by this node.")
        }
        if request.headers[.accept]?.contains("text/event-stream") == true {
            // As `POST /api/v1/instances/{id}/runs` with `mode: stream`: the run's events, then `end`.
            let run = try await useCases.startInstanceRun(
                instance.id, StartInstanceRun(input: input, mode: .stream), tenant: instance.tenantID, by: caller)
            let events = try await RunStreamBody.open(
                run, tenant: instance.tenantID, after: nil, hub: hub, heartbeat: streams.heartbeat, useCases: useCases)
            return Response(
                status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { writer in
                    for try await chunk in events { try await writer.write(ByteBuffer(bytes: chunk)) }
                    try await writer.finish(nil)
                })
        }
        let started = try await useCases.startInstanceRun(
            instance.id, StartInstanceRun(input: input, mode: .wait), tenant: instance.tenantID, by: caller)
        let run = try await hub.awaitEnd(of: started, timeout: InstanceRuns.waitLimit(of: started))
        guard run.status.isFinal else {
            let location = "/api/v1/instances/\(instance.id.lowercasedString)/runs/\(run.id.lowercasedString)"
            return Self.json(try Self.encoded(Components.Schemas.Run(run)), status: .accepted, location: location)
        }
        let body: JSONValue = .object([
            "run_id": .string(run.id.lowercasedString), "status": .string(run.status.rawValue),
            "output": run.result?["output"] ?? .null, "usage": run.result?["usage"] ?? .null,
            "error": run.lastError.map(JSONValue.string) ?? .null,
        ])
        return Self.json(Array(body.jsonText.utf8), status: .ok, location: nil)
    }

    /// The run's input: the JSON body (`{}` when there is none), checked as the API checks JSON bodies.
    static func input(of request: Request, limit: Int) async throws -> JSONValue {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw GatewayProxy.requestTooLarge(limit)
        }
        var request = request
        let bytes: [UInt8]
        do {
            bytes = Array(buffer: try await request.collectBody(upTo: limit))
        } catch is NIOTooManyBytesError {
            throw GatewayProxy.requestTooLarge(limit)
        }
        if bytes.isEmpty { return .object([:]) }
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/json") || type.contains("+json") else {
            throw AgentplaneError(.unsupportedMediaType, "Send the run's input as `application/json`.")
        }
        if let failure = JSONSyntax.firstError(in: bytes) {
            throw AgentplaneError(
                .malformedJSON, "The request body is not valid JSON: \(failure).",
                fieldErrors: [FieldError(pointer: "", message: failure.description)])
        }
        guard let input = JSONValue(parsing: bytes) else {
            throw AgentplaneError(.malformedJSON, "The request body is not valid JSON.")
        }
        return input
    }

    static func encoded(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp(date).rfc3339)
        }
        return Array(try encoder.encode(value))
    }

    static func json(_ bytes: [UInt8], status: HTTPResponse.Status, location: String?) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let location { headers[.location] = location }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
