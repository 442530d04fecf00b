import AgentplaneApp
import AgentplaneCore
import AgentplaneEngine
import AgentplaneHTTP
import AgentplaneStore
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import ServiceLifecycle

/// The composition root: wires store, engine services and the HTTP server into one application.
public enum AgentplaneApplication {
    /// The release version reported by `/version`.
    public static let version = "0.1.0"

    /// Builds the application; running it (as a Service) starts the database client and the engine,
    /// applies migrations, creates the bootstrap key when the database is empty, then listens.
    ///
    /// - Parameter announce: receives the lines meant for the operator's eyes only (the new admin key);
    ///   the default writes them to stderr, never to the log.
    public static func build(
        configuration: ServerConfiguration,
        logger: Logger,
        clock: any WallClock = SystemWallClock(),
        announce: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) },
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let store = try Backend.open(configuration, logger: logger)
        let contract = try ContractDocument()
        let migrated = StartGate()
        let tokens = AccessTokens()
        var useCases = UseCases(
            store: store, clock: clock, passwords: PasswordHasher(cost: UInt8(configuration.bcryptCost)))
        useCases.taskSettings = TaskSettings(defaultTimezone: configuration.engine.defaultTimezone)
        useCases.healthPolicy = configuration.engine.health
        let bridge = try ToolWiring.wire(&useCases, configuration: configuration, logger: logger)
        WebhookWiring.wire(&useCases, configuration: configuration)
        let engineUseCases = useCases
        let hub = EventHub(store: store, logger: logger)
        let router = try HTTPRouter.build(
            useCases: useCases,
            tokens: tokens,
            contract: contract,
            info: ServiceInfo(
                service: "agentplane",
                version: version,
                apiVersion: contract.apiVersion,
                schemaVersion: store.schemaVersion
            ),
            settings: HTTPSettings(
                maximumBodyBytes: configuration.maximumBodyBytes,
                requestsPerMinutePerCredential: configuration.requestsPerMinutePerCredential,
                servesAPI: configuration.engine.servesAPI,
                gateway: GatewaySettings(
                    maximumRequestBytes: configuration.gatewayMaximumRequestBytes,
                    maximumResponseBytes: configuration.gatewayMaximumResponseBytes,
                    allowedOutboundHosts: configuration.engine.allowedOutboundHosts,
                    trustForwardedHeaders: configuration.gatewayTrustsForwardedHeaders),
                tracing: configuration.telemetry != nil
            ),
            streams: StreamSettings(hub: hub, heartbeat: configuration.streamHeartbeat),
            logger: logger
        )
        let socket = HTTPRouter.eventSocket(useCases: useCases, tokens: tokens, hub: hub, logger: logger)
        var app = Application(
            router: SeedPathAliases(router),
            server: .http1WebSocketUpgrade(configuration: .init(ws: EventSocketEndpoint.configuration)) {
                request, _, _ in await socket.shouldUpgrade(request)
            },
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "agentplane"
            ),
            services: [store, DatabaseMonitor(store: store, logger: logger), bridge]
                + ([RunQueueMonitor(store: store, clock: clock, logger: logger), hub]
                + [ConsumerLagMonitor(store: store, logger: logger)]
                + engineServices(
                    configuration.engine, store: store, useCases: engineUseCases, bridge: bridge, clock: clock,
                    traced: configuration.telemetry != nil, logger: logger))
                .map { GatedService($0, after: migrated) },
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                logger.notice(
                    "agentplane is ready",
                    metadata: [
                        "address": .string("http://\(configuration.host):\(port)"),
                        "backend": .string(store.capabilities.backendName),
                    ]
                )
                await onServerRunning(port)
            },
            logger: logger
        )
        app.beforeServerStarts {
            try await prepare(store: store, configuration: configuration, logger: logger, announce: announce)
            try await configureTokens(tokens, store: store, configuration: configuration)
            if let box = engineUseCases.toolSettings.secretBox {
                try await ToolWiring.checkKey(box, useCases: engineUseCases)
            }
            migrated.open()
        }
        return app
    }

    /// The worker running the platform's run kinds (a span per attempt when `traced`), the maintenance ticker
    /// and the health ticker (unless monitoring is off), unless the node runs no worker.
    static func engineServices(
        _ settings: EngineSettings, store: any Store, useCases: UseCases, bridge: MCPBridge, clock: any WallClock,
        traced: Bool = false, logger: Logger
    ) -> [any Service] {
        guard settings.runsWorker else { return [] }
        let work = PlatformWork(
            useCases: useCases, outbound: OutboundPolicy(allowedHosts: settings.allowedOutboundHosts),
            retention: settings.retention, logger: logger)
        let tools = BuiltInToolbox(
            useCases: useCases, outbound: OutboundPolicy(allowedHosts: settings.allowedOutboundHosts), next: bridge)
        let tasks = TaskWork(
            useCases: useCases, tools: tools, environment: settings.pipelineEnvironment, logger: logger)
        let commands = CommandWork(useCases: useCases)
        let webhooks = WebhookWork(useCases: useCases)
        let instanceRuns = InstanceRunWork(
            useCases: useCases, tools: tools, outbound: OutboundPolicy(allowedHosts: settings.allowedOutboundHosts),
            environment: settings.pipelineEnvironment, logger: logger)
        let health = HealthWork(
            useCases: useCases, outbound: OutboundPolicy(allowedHosts: settings.allowedOutboundHosts), logger: logger)
        var workerSettings = RunWorkerSettings(
            concurrency: settings.workerConcurrency, lease: settings.lease, runTimeout: settings.runTimeout)
        workerSettings.traced = traced
        let worker = RunWorker(
            store: store,
            handlers: work.handlers.merging(tasks.handlers) { first, _ in first }
                .merging(health.handlers) { first, _ in first }
                .merging(commands.handlers) { first, _ in first }
                .merging(webhooks.handlers) { first, _ in first }
                .merging(instanceRuns.handlers) { first, _ in first },
            deadHandlers: work.deadHandlers.merging(tasks.deadHandlers) { first, _ in first }
                .merging(commands.deadHandlers) { first, _ in first }
                .merging(webhooks.deadHandlers) { first, _ in first },
            settings: workerSettings,
            clock: clock,
            logger: logger)
        var services: [any Service] = [
            worker, MaintenanceTicker(store: store, period: settings.maintenancePeriod, clock: clock, logger: logger),
        ]
        if settings.health.enabled {
            services.append(InstanceHealthTicker(store: store, policy: settings.health, clock: clock, logger: logger))
        }
        if settings.runsScheduler {
            services.append(
                TaskScheduler(store: store, clock: clock, wakeup: useCases.taskSettings.wakeup, logger: logger))
            services.append(WebhookDispatcher(useCases: useCases, logger: logger))
        }
        return services
    }

    /// Loads the token signing secret (configured, or generated once and shared through the database)
    /// and the OIDC provider's keys.
    static func configureTokens(_ tokens: AccessTokens, store: any Store, configuration: ServerConfiguration)
        async throws
    {
        let secret: String
        if let configured = configuration.jwtSecret {
            secret = configured
        } else {
            secret = try await store.identity.secret(named: "jwt_hs256") {
                APIKeyToken.generate().secret + APIKeyToken.generate().secret
            }
        }
        let oidc = try configuration.oidc.map {
            OIDCSettings(
                jwks: try String(contentsOfFile: $0.jwksPath, encoding: .utf8),
                issuer: $0.issuer,
                audience: $0.audience
            )
        }
        try await tokens.configure(secret: secret, oidc: oidc)
    }

    /// Migrates and bootstraps: what must be true before the first request is served.
    static func prepare(
        store: any Store,
        configuration: ServerConfiguration,
        logger: Logger,
        clock: any WallClock = SystemWallClock(),
        announce: @Sendable (String) -> Void
    ) async throws {
        let report = try await store.migrate()
        if !report.applied.isEmpty {
            logger.notice(
                "applied migrations",
                metadata: [
                    "versions": .string(report.applied.map(String.init).joined(separator: ",")),
                    "schema_version": .stringConvertible(report.currentVersion),
                ]
            )
        }
        switch try await AdminBootstrap.run(store: store, supplied: configuration.bootstrapKey, logger: logger) {
        case .generated(let token):
            announce("Admin API key: \(token.text)")
            announce("(shown once; only its hash is stored)")
        case .supplied(let prefix):
            announce("Admin API key: the one in AGENTPLANE_BOOTSTRAP_KEY (prefix \(prefix)) was stored")
        case .alreadyBootstrapped:
            break
        }
    }
}
