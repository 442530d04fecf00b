import AgentplaneCore
import AgentplaneServer
import AgentplaneStore
import ArgumentParser
import Foundation

/// How this node takes part in the job engine (shared by `serve` and `worker`).
struct EngineOptions: ParsableArguments {
    @Option(name: .long, help: "Runs in flight at once on this node (env AGENTPLANE_WORKER_CONCURRENCY; default 8).")
    var workerConcurrency: String?

    @Option(
        name: .long,
        help:
            "Seconds a claimed run is held without a heartbeat before another node rescues it (env AGENTPLANE_LEASE_SECONDS; default 30)."
    )
    var leaseSeconds: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A host, address or CIDR network tenants' configurations and pipelines may reach although it is not public, e.g. 127.0.0.1 or 10.0.0.0/8 (repeatable; env AGENTPLANE_OUTBOUND_ALLOW or AGENTPLANE_ALLOW_OUTBOUND_HOSTS, comma-separated).",
            valueName: "host"))
    var allowOutboundHost: [String] = []

    @Option(
        name: .long,
        help:
            "Seconds one attempt of a run may take before it is cancelled and fails, to be retried (env AGENTPLANE_RUN_TIMEOUT_SECONDS; default 900)."
    )
    var runTimeoutSeconds: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "An environment variable pipelines may read as ${env.NAME} (repeatable; env AGENTPLANE_PIPELINE_ENV, comma-separated names).",
            valueName: "name"))
    var pipelineEnv: [String] = []

    @Option(
        name: .long,
        help: ArgumentHelp(
            "An absolute path of a program tenants' stdio MCP servers may run (repeatable; env AGENTPLANE_MCP_STDIO_ALLOW, comma-separated). Nothing else is ever started.",
            valueName: "path"))
    var mcpStdioAllow: [String] = []

    @Option(
        name: .long,
        help:
            "File holding the secrets key, base64 of 32 bytes (env AGENTPLANE_SECRETS_KEY_FILE; AGENTPLANE_SECRETS_KEY gives the key itself; default <data dir>/secrets.key, generated when missing)."
    )
    var secretsKeyFile: String?

    @Option(
        name: .long,
        help:
            "IANA time zone of tasks that name none, e.g. Europe/Chisinau (env AGENTPLANE_DEFAULT_TIMEZONE; default UTC)."
    )
    var defaultTimezone: String?

    @Option(
        name: .long,
        help: "Days succeeded and cancelled runs are kept (env AGENTPLANE_RUN_RETENTION_DAYS; default 7).")
    var runRetentionDays: String?

    @Option(
        name: .long,
        help: "Days dead runs (the dead-letter list) are kept (env AGENTPLANE_DEAD_RUN_RETENTION_DAYS; default 30).")
    var deadRunRetentionDays: String?

    @Option(
        name: .long,
        help:
            "Days events are kept in the log, from when they were recorded (env AGENTPLANE_EVENT_RETENTION_DAYS; default 0: for ever)."
    )
    var eventRetentionDays: String?

    @Option(
        name: .long,
        help:
            "Minutes succeeded and cancelled health-monitoring runs are kept (env AGENTPLANE_HEALTH_RUN_RETENTION_MINUTES; default 60; never longer than --run-retention-days)."
    )
    var healthRunRetentionMinutes: String?

    @Option(
        name: .long,
        help:
            "Dead webhook deliveries in a row after which the webhook is disabled (env AGENTPLANE_WEBHOOK_DISABLE_AFTER; default 10)."
    )
    var webhookDisableAfter: String?

    @Option(
        name: .long,
        help: "Seconds one webhook POST may take (env AGENTPLANE_WEBHOOK_TIMEOUT_SECONDS; default 10).")
    var webhookTimeoutSeconds: String?

    @Option(
        name: .long,
        help:
            "Attempts of one webhook delivery before it is dead, over about a day at the default 13 (env AGENTPLANE_WEBHOOK_MAX_ATTEMPTS)."
    )
    var webhookMaxAttempts: String?

    @Option(
        name: .long,
        help:
            "Seconds between health probes of every active instance; 0 turns monitoring off (env AGENTPLANE_HEALTH_INTERVAL_SECONDS; default 30)."
    )
    var healthIntervalSeconds: String?

    @Option(
        name: .long,
        help:
            "Failed health probes in a row that move a running instance to failed, 1-20 (env AGENTPLANE_HEALTH_FAILURE_THRESHOLD; default 3)."
    )
    var healthFailureThreshold: String?

    /// The validated settings; `worker`: whether the node runs a worker; `api`: whether it serves the API.
    func settings(worker: Bool, api: Bool) throws -> EngineSettings {
        var settings = EngineSettings()
        settings.runsWorker = worker
        settings.servesAPI = api
        settings.workerConcurrency = try Self.number(
            workerConcurrency, "AGENTPLANE_WORKER_CONCURRENCY", "--worker-concurrency", default: 8, 1...1024)
        settings.lease = .seconds(
            try Self.number(leaseSeconds, "AGENTPLANE_LEASE_SECONDS", "--lease-seconds", default: 30, 2...3600))
        settings.runTimeout = .seconds(
            try Self.number(
                runTimeoutSeconds, "AGENTPLANE_RUN_TIMEOUT_SECONDS", "--run-timeout-seconds", default: 900, 1...86_400))
        let hosts =
            allowOutboundHost.isEmpty
            ? (DatabaseOptions.resolve(nil, "AGENTPLANE_ALLOW_OUTBOUND_HOSTS")
                ?? DatabaseOptions.resolve(nil, "AGENTPLANE_OUTBOUND_ALLOW") ?? "").split(separator: ",").map {
                    $0.trimmingCharacters(in: .whitespaces)
                } : allowOutboundHost
        settings.allowedOutboundHosts = hosts.filter { !$0.isEmpty }
        let ended = try Self.number(
            runRetentionDays, "AGENTPLANE_RUN_RETENTION_DAYS", "--run-retention-days", default: 7, 1...3650)
        let dead = try Self.number(
            deadRunRetentionDays, "AGENTPLANE_DEAD_RUN_RETENTION_DAYS", "--dead-run-retention-days", default: 30,
            1...3650)
        let commands =
            mcpStdioAllow.isEmpty
            ? (DatabaseOptions.resolve(nil, "AGENTPLANE_MCP_STDIO_ALLOW") ?? "").split(separator: ",").map(String.init)
            : mcpStdioAllow
        for command in commands.map({ $0.trimmingCharacters(in: .whitespaces) }) where !command.isEmpty {
            guard command.hasPrefix("/") else {
                throw ConfigurationError(
                    "\(mcpStdioAllow.isEmpty ? "AGENTPLANE_MCP_STDIO_ALLOW" : "--mcp-stdio-allow") entries must be "
                        + "absolute paths, got '\(command)'")
            }
            settings.mcpStdioAllowList.append(command)
        }
        settings.secretsKey = DatabaseOptions.resolve(nil, "AGENTPLANE_SECRETS_KEY")
        settings.secretsKeyFile = DatabaseOptions.resolve(secretsKeyFile, "AGENTPLANE_SECRETS_KEY_FILE")
        let names =
            pipelineEnv.isEmpty
            ? (DatabaseOptions.resolve(nil, "AGENTPLANE_PIPELINE_ENV") ?? "").split(separator: ",").map(String.init)
            : pipelineEnv
        let environment = ProcessInfo.processInfo.environment
        for name in names.map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            settings.pipelineEnvironment[name] = environment[name] ?? ""
        }
        if let zone = DatabaseOptions.resolve(defaultTimezone, "AGENTPLANE_DEFAULT_TIMEZONE") {
            guard Schedule.isIANATimeZone(zone) else {
                throw ConfigurationError(
                    "\(defaultTimezone == nil ? "AGENTPLANE_DEFAULT_TIMEZONE" : "--default-timezone") must be an IANA "
                        + "time zone name such as Europe/Chisinau or UTC, got '\(zone)'")
            }
            settings.defaultTimezone = zone
        }
        let events = try Self.number(
            eventRetentionDays, "AGENTPLANE_EVENT_RETENTION_DAYS", "--event-retention-days", default: 0, 0...36_500)
        let health = try Self.number(
            healthRunRetentionMinutes, "AGENTPLANE_HEALTH_RUN_RETENTION_MINUTES", "--health-run-retention-minutes",
            default: 60, 1...5_256_000)
        settings.retention = RunRetention(
            endedSeconds: Int64(ended) * 86_400, deadSeconds: Int64(dead) * 86_400,
            eventSeconds: Int64(events) * 86_400, healthSeconds: Int64(health) * 60)
        settings.webhooks.disableAfter = try Self.number(
            webhookDisableAfter, "AGENTPLANE_WEBHOOK_DISABLE_AFTER", "--webhook-disable-after", default: 10, 1...10_000)
        settings.webhooks.timeout = .seconds(
            try Self.number(
                webhookTimeoutSeconds, "AGENTPLANE_WEBHOOK_TIMEOUT_SECONDS", "--webhook-timeout-seconds", default: 10,
                1...300))
        settings.webhooks.maxAttempts = try Self.number(
            webhookMaxAttempts, "AGENTPLANE_WEBHOOK_MAX_ATTEMPTS", "--webhook-max-attempts", default: 13, 1...50)
        let keep = InstanceHealthPolicy().keep
        settings.health = InstanceHealthPolicy(
            interval: .seconds(
                try Self.number(
                    healthIntervalSeconds, "AGENTPLANE_HEALTH_INTERVAL_SECONDS", "--health-interval-seconds",
                    default: 30, 0...86_400)),
            failureThreshold: try Self.number(
                healthFailureThreshold, "AGENTPLANE_HEALTH_FAILURE_THRESHOLD", "--health-failure-threshold",
                default: 3, 1...keep),
            keep: keep)
        return settings
    }

    static func number(
        _ flag: String?, _ variable: String, _ name: String, default value: Int, _ range: ClosedRange<Int>
    ) throws -> Int {
        guard let text = DatabaseOptions.resolve(flag, variable) else { return value }
        guard let number = Int(text), range.contains(number) else {
            // Named as the operator gave it: the flag, or the variable when the value came from there.
            throw ConfigurationError(
                "\(flag == nil ? variable : name) must be a whole number between \(range.lowerBound) and "
                    + "\(range.upperBound), got '\(text)'")
        }
        return number
    }

    /// A switch set by its variable (`1`/`true`/`yes` or `0`/`false`/`no`; unset: off); `name` is its flag.
    static func flag(_ variable: String, _ name: String) throws -> Bool {
        guard let text = DatabaseOptions.resolve(nil, variable)?.lowercased() else { return false }
        switch text {
        case "1", "true", "yes": return true
        case "0", "false", "no": return false
        default:
            throw ConfigurationError("\(variable) (as \(name)) must be 1 or 0 (true or false), got '\(text)'")
        }
    }
}

/// `agentplane worker`: runs the job engine without the API; the probes, `/version` and `/metrics`
/// are still served on its port.
struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the job engine only: claim and perform runs, no API (probes and metrics on --port)."
    )

    @Option(name: .long, help: "Interface to listen on for the probes and metrics.")
    var host: String = "127.0.0.1"

    @Option(
        name: .long, help: "TCP port of the probes and metrics (env SERVICE_PORT; default 8080; 0 picks a free port).")
    var port: String?

    @OptionGroup var engine: EngineOptions
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        var configuration = try database.makeConfiguration(serving: true, host: host, port: port)
        configuration.engine = try engine.settings(worker: true, api: false)
        try await Serve.run(configuration)
    }
}
