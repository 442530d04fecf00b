import AgentplaneServer
import ArgumentParser
import Hummingbird
import Logging
import ServiceLifecycle

/// `agentplane serve`: runs the whole service until SIGTERM or SIGINT.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the API server, the engine and the database client (the default command)."
    )

    @Option(name: .long, help: "Interface to listen on.")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "TCP port (env SERVICE_PORT; default 8080; 0 picks a free port).")
    var port: String?

    @Option(
        name: .long, help: "Largest accepted request body in bytes (env AGENTPLANE_MAX_BODY_BYTES; default 1048576).")
    var maxBodyBytes: String?

    @Option(
        name: .long,
        help:
            "Requests per minute per credential, 0 for none (env AGENTPLANE_RATE_LIMIT; default 1200; platform admins exempt)."
    )
    var rateLimit: String?

    @Option(
        name: .long,
        help:
            "Largest request body a gateway call (/gateway/instances/…) may carry, in bytes (env AGENTPLANE_GATEWAY_MAX_REQUEST_BYTES; default 10485760)."
    )
    var gatewayMaxRequestBytes: String?

    @Option(
        name: .long,
        help:
            "Largest response body the gateway relays from an http instance, in bytes; a longer one is cut (env AGENTPLANE_GATEWAY_MAX_RESPONSE_BYTES; default 52428800)."
    )
    var gatewayMaxResponseBytes: String?

    @Flag(
        name: .long,
        help:
            "Pass callers' X-Forwarded-For/-Proto/-Host on to agent services behind the gateway, for a trusted proxy in front (env AGENTPLANE_GATEWAY_TRUST_FORWARDED_HEADERS=1; default: replaced by what this node saw)."
    )
    var gatewayTrustForwardedHeaders = false

    @Flag(name: .long, help: "Serve the API without a worker: runs are queued here and performed by other nodes.")
    var noWorker = false

    @OptionGroup var engine: EngineOptions
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        var configuration = try database.makeConfiguration(
            serving: true,
            host: host,
            port: port,
            maxBodyBytes: maxBodyBytes,
            rateLimit: rateLimit
        )
        configuration.engine = try engine.settings(worker: !noWorker, api: true)
        configuration.gatewayMaximumRequestBytes = try EngineOptions.number(
            gatewayMaxRequestBytes, "AGENTPLANE_GATEWAY_MAX_REQUEST_BYTES", "--gateway-max-request-bytes",
            default: ServerConfiguration.defaultGatewayMaximumRequestBytes, 1024...(1 << 30))
        configuration.gatewayMaximumResponseBytes = try EngineOptions.number(
            gatewayMaxResponseBytes, "AGENTPLANE_GATEWAY_MAX_RESPONSE_BYTES", "--gateway-max-response-bytes",
            default: ServerConfiguration.defaultGatewayMaximumResponseBytes, 1024...(1 << 34))
        // The variable is read (and a bad value refused) even when the flag is given.
        let trustedByVariable = try EngineOptions.flag(
            "AGENTPLANE_GATEWAY_TRUST_FORWARDED_HEADERS", "--gateway-trust-forwarded-headers")
        configuration.gatewayTrustsForwardedHeaders = gatewayTrustForwardedHeaders || trustedByVariable
        try await Self.run(configuration)
    }

    /// Runs the application until SIGTERM or SIGINT; with telemetry configured, the tracer is bootstrapped
    /// first and its exporter runs before the application in the group (it stops after it, flushing the spans).
    static func run(_ configuration: ServerConfiguration) async throws {
        let logger = bootstrapLogging(level: configuration.logLevel)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let telemetry = configuration.telemetry {
            services.append(.init(service: try Telemetry.bootstrap(telemetry, logger: logger)))
        }
        let app = try AgentplaneApplication.build(configuration: configuration, logger: logger)
        services.append(.init(service: app))
        var groupConfiguration = ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownTimeout
        try await ServiceGroup(configuration: groupConfiguration).run()
    }
}

/// `agentplane migrate`: applies pending migrations and exits.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations and exit.")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let configuration = try database.makeConfiguration(serving: false)
        let logger = bootstrapLogging(level: configuration.logLevel)
        let store = try Backend.open(configuration, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.run() }
            defer { group.cancelAll() }
            let report = try await store.migrate()
            print(
                report.applied.isEmpty
                    ? "Schema is up to date (version \(report.currentVersion))."
                    : "Applied migrations \(report.applied.map(String.init).joined(separator: ", ")); schema version \(report.currentVersion)."
            )
        }
    }
}
