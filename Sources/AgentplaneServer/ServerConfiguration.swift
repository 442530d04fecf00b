import AgentplaneCore
import AgentplanePostgres
import AgentplaneStore
import Foundation
import Logging

/// Everything `agentplane serve` can be told, validated at construction.
public struct ServerConfiguration: Sendable {
    /// Interface to listen on.
    public var host: String
    /// TCP port (0 picks a free one).
    public var port: Int
    /// Folder of the embedded SQLite database.
    public var dataDirectory: String
    /// `postgres://…` to use PostgreSQL; nil for the embedded SQLite file.
    public var databaseURL: String?
    /// Minimum level of log lines.
    public var logLevel: Logger.Level
    /// Largest accepted request body.
    public var maximumBodyBytes: Int
    /// Requests per minute per credential (0 turns the limit off; tenants have their own quota too).
    public var requestsPerMinutePerCredential: Int
    /// HS256 secret for access tokens; nil: generated once and kept in the database (shared by nodes).
    public var jwtSecret: String?
    /// External OIDC provider: JWKS file path, issuer and audience (all three or none).
    public var oidc: OIDCConfiguration?
    /// bcrypt cost for passwords.
    public var bcryptCost: Int
    /// The first-start admin key, when the operator supplies it.
    public var bootstrapKey: APIKeyToken?
    /// How long graceful shutdown may take before the process exits anyway.
    public var shutdownTimeout: Duration
    /// The job engine on this node.
    public var engine = EngineSettings()
    /// Silence after which an event stream (SSE) sends a keep-alive comment.
    public var streamHeartbeat: Duration = .seconds(15)
    /// Largest request body a gateway call may carry (`--gateway-max-request-bytes`; default 10 MiB).
    public var gatewayMaximumRequestBytes = ServerConfiguration.defaultGatewayMaximumRequestBytes
    /// Largest response body the gateway relays from an `http` instance (`--gateway-max-response-bytes`;
    /// default 50 MiB); a longer one is cut.
    public var gatewayMaximumResponseBytes = ServerConfiguration.defaultGatewayMaximumResponseBytes
    /// Whether callers' `X-Forwarded-*` headers are passed on to agent services (`--gateway-trust-forwarded-headers`:
    /// a trusted proxy in front sets them); by default they are replaced by what this node saw.
    public var gatewayTrustsForwardedHeaders = false
    /// Where traces are exported (`OTEL_*` variables); nil: tracing off.
    public var telemetry: TelemetryConfiguration?

    /// The defaults: 127.0.0.1:8080, `./.agentplane/agentplane.sqlite`, info logs, 1 MiB bodies.
    public static let defaultPort = 8080
    /// Default body limit.
    public static let defaultMaximumBodyBytes = 1 << 20
    /// Default gateway request body limit: 10 MiB.
    public static let defaultGatewayMaximumRequestBytes = 10 << 20
    /// Default gateway response body limit: 50 MiB.
    public static let defaultGatewayMaximumResponseBytes = 50 << 20
    /// Default per-credential rate limit.
    public static let defaultRequestsPerMinutePerCredential = 1200

    /// Creates a validated configuration; throws a one-line `ConfigurationError`.
    public init(
        host: String = "127.0.0.1",
        port: Int = ServerConfiguration.defaultPort,
        dataDirectory: String = "./.agentplane",
        databaseURL: String? = nil,
        logLevel: Logger.Level = .info,
        maximumBodyBytes: Int = ServerConfiguration.defaultMaximumBodyBytes,
        bootstrapKey: String? = nil,
        requestsPerMinutePerCredential: Int = ServerConfiguration.defaultRequestsPerMinutePerCredential,
        jwtSecret: String? = nil,
        oidc: OIDCConfiguration? = nil,
        bcryptCost: Int = 12,
        shutdownTimeout: Duration = .seconds(30)
    ) throws {
        if let jwtSecret, jwtSecret.utf8.count < 32 {
            throw ConfigurationError("AGENTPLANE_JWT_SECRET must be at least 32 bytes")
        }
        guard (4...31).contains(bcryptCost) else {
            throw ConfigurationError("the bcrypt cost must be between 4 and 31, got \(bcryptCost)")
        }
        self.jwtSecret = jwtSecret
        self.oidc = oidc
        self.bcryptCost = bcryptCost
        guard (0...10_000_000).contains(requestsPerMinutePerCredential) else {
            throw ConfigurationError(
                "the per-credential rate limit must be between 0 (off) and 10000000 requests per minute, got \(requestsPerMinutePerCredential)"
            )
        }
        self.requestsPerMinutePerCredential = requestsPerMinutePerCredential
        guard !host.isEmpty, !host.contains(where: \.isWhitespace) else {
            throw ConfigurationError("--host must be an address or host name, got '\(host)'")
        }
        guard (0...65535).contains(port) else {
            throw ConfigurationError("the port must be between 0 and 65535, got \(port)")
        }
        guard !dataDirectory.isEmpty else { throw ConfigurationError("--data-dir must not be empty") }
        if let databaseURL {
            do {
                _ = try PostgresConfiguration(url: databaseURL)
            } catch {
                throw ConfigurationError("invalid DATABASE_URL: \(error)")
            }
        }
        guard (1024...(256 << 20)).contains(maximumBodyBytes) else {
            throw ConfigurationError(
                "the body limit must be between 1024 and \(256 << 20) bytes, got \(maximumBodyBytes)")
        }
        if let bootstrapKey {
            guard let token = APIKeyToken(parsing: bootstrapKey) else {
                throw ConfigurationError(
                    "AGENTPLANE_BOOTSTRAP_KEY must look like ap_<8 lowercase letters or digits>_<32-128 letters or digits>"
                )
            }
            self.bootstrapKey = token
        } else {
            self.bootstrapKey = nil
        }
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.databaseURL = databaseURL
        self.logLevel = logLevel
        self.maximumBodyBytes = maximumBodyBytes
        self.shutdownTimeout = shutdownTimeout
    }

    /// Path of the embedded database file.
    public var sqlitePath: String { (dataDirectory as NSString).appendingPathComponent("agentplane.sqlite") }

    /// Parses a log level name (`trace` … `critical`, plus `warn`).
    public static func logLevel(named name: String) throws -> Logger.Level {
        let normalized = name.lowercased() == "warn" ? "warning" : name.lowercased()
        guard let level = Logger.Level(rawValue: normalized) else {
            throw ConfigurationError(
                "LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical; got '\(name)'"
            )
        }
        return level
    }
}

/// A bad configuration value, reported as one line and exit code 2.
public struct ConfigurationError: Error, CustomStringConvertible {
    /// What is wrong and what is expected.
    public var description: String
    /// Creates an error.
    public init(_ description: String) { self.description = description }
}

/// An external identity provider whose RS256/ES256 tokens are accepted.
public struct OIDCConfiguration: Sendable {
    /// Path of the provider's JWKS (JSON) file.
    public var jwksPath: String
    /// Required `iss`.
    public var issuer: String
    /// Required member of `aud`.
    public var audience: String

    /// Creates the configuration; throws when the JWKS file cannot be read.
    public init(jwksPath: String, issuer: String, audience: String) throws {
        guard FileManager.default.isReadableFile(atPath: jwksPath) else {
            throw ConfigurationError("AGENTPLANE_OIDC_JWKS_FILE '\(jwksPath)' is not a readable file")
        }
        guard !issuer.isEmpty, !audience.isEmpty else {
            throw ConfigurationError("AGENTPLANE_OIDC_ISSUER and AGENTPLANE_OIDC_AUDIENCE must both be set with a JWKS")
        }
        self.jwksPath = jwksPath
        self.issuer = issuer
        self.audience = audience
    }
}

/// How a node takes part in the job engine.
public struct EngineSettings: Sendable {
    /// Whether this node serves the API (`agentplane worker` does not: health and metrics only).
    public var servesAPI = true
    /// Whether this node runs a worker (`serve --no-worker` does not).
    public var runsWorker = true
    /// Runs in flight at most on this node.
    public var workerConcurrency = 8
    /// How long a claim holds without a heartbeat.
    public var lease: Duration = .seconds(30)
    /// Hosts tenants' configurations may point the platform at although they are not public.
    public var allowedOutboundHosts: [String] = []
    /// How long one attempt may run before it is cancelled and fails (retried while attempts are left).
    public var runTimeout: Duration = .seconds(900)
    /// The time zone of a task that names none (`--default-timezone`): UTC, the one zone every user can
    /// predict; seed 004's `Europe/Chisinau` is one deployment's choice.
    public var defaultTimezone = "UTC"
    /// The environment variables pipelines may read as `${env.NAME}` (only those the operator names).
    public var pipelineEnvironment: [String: String] = [:]
    /// The secrets key (base64 of 32 bytes; `AGENTPLANE_SECRETS_KEY`); nil: the key file.
    public var secretsKey: String?
    /// The secrets key file (`--secrets-key-file`); nil: `<data dir>/secrets.key`, generated when missing.
    public var secretsKeyFile: String?
    /// Absolute paths of the programs tenants' stdio MCP servers may run (`AGENTPLANE_MCP_STDIO_ALLOW`).
    public var mcpStdioAllowList: [String] = []
    /// Whether this node takes part in scheduling tasks (it fires them while it holds the lease).
    public var runsScheduler = true
    /// How long ended runs are kept.
    public var retention = RunRetention()
    /// How webhooks are delivered: attempts and backoff, timeout, auto-disable threshold, rotation grace.
    public var webhooks = WebhookPolicy()
    /// How often maintenance (idempotency keys, run retention) runs.
    public var maintenancePeriod: Duration = .seconds(300)
    /// How active instances are probed (`--health-interval-seconds`, `--health-failure-threshold`): every 30 s,
    /// `failed` after 3 failed probes in a row, the last 20 checks kept; a zero interval turns monitoring off.
    public var health = InstanceHealthPolicy()

    /// The defaults: API and worker, 8 runs at once.
    public init() {}

    /// The API without a worker (`serve --no-worker`): work is queued, nothing runs it here.
    public static var noWorker: EngineSettings {
        var settings = EngineSettings()
        settings.runsWorker = false
        return settings
    }
}
