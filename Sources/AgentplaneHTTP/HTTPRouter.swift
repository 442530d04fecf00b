import AgentplaneAPI
import AgentplaneApp
import AgentplaneEngine
import AgentplaneStore
import Hummingbird
import Logging
import OpenAPIHummingbird
import OpenAPIRuntime

/// Settings of the HTTP adapter.
package struct HTTPSettings: Sendable {
    /// Largest accepted request body, in bytes.
    package var maximumBodyBytes: Int
    /// Requests per minute per credential (0: no per-credential limit).
    package var requestsPerMinutePerCredential: Int
    /// Whether the API is served (false on a worker-only node: probes, version and metrics only).
    package var servesAPI: Bool
    /// The gateway's limits.
    package var gateway: GatewaySettings
    /// Whether requests are traced (a server span each, continuing the caller's `traceparent`): on when the
    /// process bootstrapped a tracer; off, no tracing middleware is installed at all.
    package var tracing: Bool

    /// Creates settings.
    package init(
        maximumBodyBytes: Int, requestsPerMinutePerCredential: Int, servesAPI: Bool = true,
        gateway: GatewaySettings = GatewaySettings(), tracing: Bool = false
    ) {
        self.maximumBodyBytes = maximumBodyBytes
        self.requestsPerMinutePerCredential = requestsPerMinutePerCredential
        self.servesAPI = servesAPI
        self.gateway = gateway
        self.tracing = tracing
    }
}

/// Assembles the router: middleware chain, generated API handlers and the plain meta routes.
package enum HTTPRouter {
    /// The complete router over the use cases (and their store).
    ///
    /// Middleware order, outermost first: the server span (when tracing), request id + access log, metrics, body
    /// limit, problem mapping, NUL in the query, authentication, rate limits and idempotency (both need the
    /// principal), JSON syntax check. Metrics sit outside the problem mapping so they record real statuses;
    /// the body limit buffers every body, so later readers (the syntax check, the handler) can read it — except
    /// on the gateway's routes (`GatewayRoute`), which stream their bodies under their own limits.
    package static func build(
        useCases: UseCases,
        tokens: AccessTokens,
        contract: ContractDocument,
        info: ServiceInfo,
        settings: HTTPSettings,
        streams: StreamSettings = StreamSettings(hub: nil),
        logger: Logger
    ) throws -> Router<AgentplaneRequestContext> {
        let store = useCases.store
        let keyCache = VerifiedKeyCache(ttl: APIKeyAuthenticator.defaultCacheTTL)
        let router = Router(context: AgentplaneRequestContext.self)
        if settings.tracing {
            // Stream tickets are credentials: the span records the query without them.
            router.middlewares.add(TracingMiddleware(redactingQueryParameters: ["ticket"]))
        }
        router.middlewares.add(RequestLifecycleMiddleware(logger: logger))
        router.middlewares.add(MetricsMiddleware())
        router.middlewares.add(BodyLimitMiddleware(maximumBytes: settings.maximumBodyBytes))
        router.middlewares.add(ProblemMiddleware(routes: RouteTable(document: contract.document), logger: logger))
        if !settings.servesAPI { router.middlewares.add(WorkerNodeMiddleware()) }
        router.middlewares.add(QueryTextMiddleware())
        router.middlewares.add(
            AuthenticationMiddleware(
                authenticator: BearerAuthenticator(
                    keys: APIKeyAuthenticator(keys: store.apiKeys, clock: useCases.clock, cache: keyCache),
                    tokens: tokens,
                    store: store
                )
            )
        )
        router.middlewares.add(
            RateLimitMiddleware(
                limiter: RateLimiter(clock: useCases.clock), perPrincipal: settings.requestsPerMinutePerCredential)
        )
        router.middlewares.add(
            IdempotencyMiddleware(
                store: store.idempotency, secretRoutes: contract.secretResponseRoutes, clock: useCases.clock)
        )
        router.middlewares.add(JSONBodyMiddleware())
        MetaRoutes(contract: contract, registry: PrometheusMetrics.registry()).register(on: router)
        let outbound = OutboundPolicy(allowedHosts: settings.gateway.allowedOutboundHosts)
        let proxy = GatewayProxy(outbound: outbound, settings: settings.gateway)
        GatewayRoute(useCases: useCases, proxy: proxy, streams: streams, logger: logger).register(on: router)
        try APIHandler(useCases: useCases, info: info, tokens: tokens, keyCache: keyCache, streams: streams)
            .registerHandlers(
                on: router,
                configuration: Configuration(
                    dateTranscoder: MicrosecondDateTranscoder(),
                    jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes]
                ),
                middlewares: [
                    OperationSpanMiddleware(),
                    AuditFailureMiddleware(store: store),
                    AuthorizationMiddleware(policy: AccessPolicy(document: contract.document)),
                    RawBodyMiddleware(operations: ResourceJSON.operations),
                    LocationHeaderMiddleware(),
                ]
            )
        return router
    }

    /// The event WebSocket's upgrade decision (the server's HTTP/1 channel asks it before routing).
    package static func eventSocket(useCases: UseCases, tokens: AccessTokens, hub: EventHub, logger: Logger)
        -> EventSocketEndpoint
    {
        let store = useCases.store
        let authenticator = BearerAuthenticator(
            keys: APIKeyAuthenticator(
                keys: store.apiKeys, clock: useCases.clock,
                cache: VerifiedKeyCache(ttl: APIKeyAuthenticator.defaultCacheTTL)),
            tokens: tokens,
            store: store
        )
        return EventSocketEndpoint(authenticator: authenticator, useCases: useCases, hub: hub, logger: logger)
    }
}
