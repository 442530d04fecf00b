import AgentplaneServer
import ArgumentParser
import Foundation
import Logging

/// `agentplane`: the control plane's single binary.
struct AgentplaneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agentplane",
        abstract: "Agentplane: a self-hostable control plane for AI agents.",
        discussion: """
            Runs on an embedded SQLite file by default (./.agentplane/agentplane.sqlite); give a
            postgres:// URL to share one PostgreSQL database between any number of nodes.

            Environment variables (a flag wins over its variable):
              DATABASE_URL               same as --database-url
              SERVICE_PORT               same as --port
              LOG_LEVEL                  same as --log-level
              AGENTPLANE_DATA_DIR        same as --data-dir
              AGENTPLANE_MAX_BODY_BYTES  same as --max-body-bytes
              AGENTPLANE_RATE_LIMIT      same as --rate-limit
              AGENTPLANE_JWT_SECRET      HS256 secret for access tokens (32+ bytes; default: generated
                                         once and kept in the database)
              AGENTPLANE_OIDC_JWKS_FILE, AGENTPLANE_OIDC_ISSUER, AGENTPLANE_OIDC_AUDIENCE
                                         accept RS256/ES256 tokens of an external OIDC provider
              AGENTPLANE_BCRYPT_COST     bcrypt cost for passwords (default 12)
              AGENTPLANE_BOOTSTRAP_KEY   the first platform-admin API key (ap_<8>_<32+>) to store on an
                                         empty database instead of generating one
              AGENTPLANE_WORKER_CONCURRENCY, AGENTPLANE_LEASE_SECONDS, AGENTPLANE_RUN_TIMEOUT_SECONDS,
              AGENTPLANE_ALLOW_OUTBOUND_HOSTS, AGENTPLANE_RUN_RETENTION_DAYS, AGENTPLANE_DEAD_RUN_RETENTION_DAYS,
              AGENTPLANE_DEFAULT_TIMEZONE, AGENTPLANE_PIPELINE_ENV, AGENTPLANE_OUTBOUND_ALLOW,
              AGENTPLANE_MCP_STDIO_ALLOW, AGENTPLANE_SECRETS_KEY_FILE, AGENTPLANE_SECRETS_KEY
                                         the job engine's flags of serve and worker
              OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_SERVICE_NAME,
              OTEL_EXPORTER_OTLP_HEADERS (aliases OTEL__EXPORTER_ENDPOINT, OTEL__SERVICE_NAME,
              OTEL__EXPORTER_HEADERS)    export traces over OTLP/HTTP (off when no endpoint is set;
                                         docs/observability.md)

            A bad value is reported on one line with exit code 2.
            """,
        version: AgentplaneApplication.version,
        subcommands: [Serve.self, Worker.self, Migrate.self, Keys.self, Users.self],
        defaultSubcommand: Serve.self
    )
}

/// Options shared by every command that opens the database.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "PostgreSQL URL postgres://user:pass@host:port/db (env DATABASE_URL).")
    var databaseURL: String?

    @Option(
        name: .long, help: "Folder of the embedded SQLite database (env AGENTPLANE_DATA_DIR; default ./.agentplane).")
    var dataDir: String?

    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical (env LOG_LEVEL; default info).")
    var logLevel: String?

    /// Flag, else environment variable, else nil.
    static func resolve(_ flag: String?, _ variable: String) -> String? {
        flag ?? ProcessInfo.processInfo.environment[variable].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The validated configuration; `serving` reads the server-only settings (port, body limit).
    func makeConfiguration(
        serving: Bool,
        host: String = "127.0.0.1",
        port: String? = nil,
        maxBodyBytes: String? = nil,
        rateLimit: String? = nil
    ) throws -> ServerConfiguration {
        let rateText =
            (serving ? Self.resolve(rateLimit, "AGENTPLANE_RATE_LIMIT") : nil)
            ?? String(ServerConfiguration.defaultRequestsPerMinutePerCredential)
        guard let requestsPerMinute = Int(rateText) else {
            throw ConfigurationError("the rate limit must be a number of requests per minute, got '\(rateText)'")
        }
        let portText =
            (serving ? Self.resolve(port, "SERVICE_PORT") : nil) ?? String(ServerConfiguration.defaultPort)
        guard let portNumber = Int(portText) else {
            throw ConfigurationError("the port must be a number between 0 and 65535, got '\(portText)'")
        }
        let bodyText =
            Self.resolve(maxBodyBytes, "AGENTPLANE_MAX_BODY_BYTES")
            ?? String(ServerConfiguration.defaultMaximumBodyBytes)
        guard let bodyBytes = Int(bodyText) else {
            throw ConfigurationError("the body limit must be a number of bytes, got '\(bodyText)'")
        }
        var configuration = try ServerConfiguration(
            host: host,
            port: portNumber,
            dataDirectory: Self.resolve(dataDir, "AGENTPLANE_DATA_DIR") ?? "./.agentplane",
            databaseURL: Self.resolve(databaseURL, "DATABASE_URL"),
            logLevel: try ServerConfiguration.logLevel(named: Self.resolve(logLevel, "LOG_LEVEL") ?? "info"),
            maximumBodyBytes: bodyBytes,
            bootstrapKey: Self.resolve(nil, "AGENTPLANE_BOOTSTRAP_KEY"),
            requestsPerMinutePerCredential: requestsPerMinute,
            jwtSecret: Self.resolve(nil, "AGENTPLANE_JWT_SECRET"),
            oidc: try Self.resolve(nil, "AGENTPLANE_OIDC_JWKS_FILE").map {
                try OIDCConfiguration(
                    jwksPath: $0,
                    issuer: Self.resolve(nil, "AGENTPLANE_OIDC_ISSUER") ?? "",
                    audience: Self.resolve(nil, "AGENTPLANE_OIDC_AUDIENCE") ?? ""
                )
            },
            bcryptCost: try Self.bcryptCost()
        )
        if serving {
            configuration.telemetry = try TelemetryConfiguration(environment: ProcessInfo.processInfo.environment)
        }
        return configuration
    }
}

extension DatabaseOptions {
    static func bcryptCost() throws -> Int {
        let text = resolve(nil, "AGENTPLANE_BCRYPT_COST") ?? "12"
        guard let cost = Int(text) else {
            throw ConfigurationError("AGENTPLANE_BCRYPT_COST must be a number from 4 to 31, got '\(text)'")
        }
        return cost
    }
}

/// Routes swift-log to JSON lines on stderr at the configured level, each line carrying the request's or run's
/// identifiers (`LogContext`).
func bootstrapLogging(level: Logger.Level) -> Logger {
    LoggingSystem.bootstrap(
        { label, provider in JSONLogHandler(label: label, level: level, metadataProvider: provider) },
        metadataProvider: LogContext.metadataProvider)
    return Logger(label: "agentplane")
}
