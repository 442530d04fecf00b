import Foundation
import Logging
import OTel
import ServiceLifecycle
import Tracing

/// Where traces go, from the standard OpenTelemetry variables: exported over OTLP/HTTP (protobuf) when
/// `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set; seed 003's names are aliases
/// (`OTEL__EXPORTER_ENDPOINT`: the traces URL as it is; `OTEL__SERVICE_NAME`; `OTEL__EXPORTER_HEADERS`). Without
/// an endpoint, or with `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`, tracing is off.
public struct TelemetryConfiguration: Sendable {
    /// The `OTEL_*` variables the exporter reads, the aliases turned into the standard names.
    public var environment: [String: String]
    /// `service.name` of the exported spans (`OTEL_SERVICE_NAME`, default `agentplane`).
    public var serviceName: String
    /// The headers of every export (`OTEL_EXPORTER_OTLP_TRACES_HEADERS`, else `OTEL_EXPORTER_OTLP_HEADERS`, else
    /// `OTEL__EXPORTER_HEADERS`). Kept out of `environment`: swift-otel logs the variables it reads, values
    /// included, and these carry credentials.
    public var headers: [(name: String, value: String)]

    /// The configuration of `environment`; nil when tracing is off. Throws for what this build cannot export
    /// (OTLP over gRPC).
    public init?(environment: [String: String]) throws {
        func value(_ name: String) -> String? {
            environment[name].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        }
        var variables = environment.filter { $0.key.hasPrefix("OTEL_") && !$0.key.hasPrefix("OTEL__") }
        // Logs and metrics stay ours (JSON lines, Prometheus): the exporter must never be told to enable them.
        variables.removeValue(forKey: "OTEL_SDK_DISABLED")
        if value("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == nil, value("OTEL_EXPORTER_OTLP_ENDPOINT") == nil {
            variables["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = value("OTEL__EXPORTER_ENDPOINT")
        }
        // Every signal's headers: swift-otel reads (and logs) the metrics' and logs' too.
        variables = variables.filter { !$0.key.hasSuffix("_HEADERS") }
        let disabled = value("OTEL_SDK_DISABLED")?.lowercased() == "true"
        let exporter = value("OTEL_TRACES_EXPORTER")?.lowercased() ?? "otlp"
        guard !disabled, exporter != "none",
            variables["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] != nil || variables["OTEL_EXPORTER_OTLP_ENDPOINT"] != nil
        else { return nil }
        guard exporter == "otlp" else {
            throw ConfigurationError("OTEL_TRACES_EXPORTER must be otlp or none, got '\(exporter)'")
        }
        for name in ["OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] {
            if let given = value(name), !["http/protobuf", "http/json"].contains(given.lowercased()) {
                throw ConfigurationError(
                    "\(name) must be http/protobuf or http/json (this build exports OTLP over HTTP), got '\(given)'")
            }
        }
        let headerVariables = [
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS", "OTEL__EXPORTER_HEADERS",
        ]
        headers =
            try headerVariables.first { value($0) != nil }.map { try Self.headers(value($0) ?? "", variable: $0) }
            ?? []
        serviceName = value("OTEL_SERVICE_NAME") ?? value("OTEL__SERVICE_NAME") ?? "agentplane"
        variables["OTEL_SERVICE_NAME"] = serviceName
        self.environment = variables
    }
}

extension TelemetryConfiguration {
    /// `name=value` pairs separated by commas, values percent-decoded (the OpenTelemetry format); the error
    /// names the variable, never its value.
    static func headers(_ text: String, variable: String) throws -> [(name: String, value: String)] {
        try text.split(separator: ",").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1)
            let name = parts.first?.trimmingCharacters(in: .whitespaces) ?? ""
            guard parts.count == 2, !name.isEmpty else {
                throw ConfigurationError("\(variable) must be name=value pairs separated by commas")
            }
            let raw = parts[1].trimmingCharacters(in: .whitespaces)
            return (name, raw.removingPercentEncoding ?? raw)
        }
    }
}

/// The process's tracer: bootstrapped once, by `agentplane serve` and `agentplane worker` only (never by the
/// in-process servers of the tests), and only when telemetry is configured; otherwise the tracing API's no-op
/// tracer stays, and no span is ever made (`TraceSpans`). Logs and metrics are left alone: only the tracing
/// backend of swift-otel is bootstrapped, with our JSON logger for its own diagnostics.
public enum Telemetry {
    /// Bootstraps the tracer (W3C trace context, parent-based sampling, a batching span processor, OTLP/HTTP
    /// exporter) and answers the service that exports the spans; run it in the service group before the
    /// application, so that it shuts down after it and flushes the last spans.
    public static func bootstrap(_ telemetry: TelemetryConfiguration, logger: Logger) throws -> any Service {
        var configuration = OTel.Configuration.default
        configuration.serviceName = telemetry.serviceName
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.propagators = [.traceContext]
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        configuration.traces.otlpExporter.headers = telemetry.headers.map { ($0.name, $0.value) }
        // Its diagnostics in our JSON lines; below warning only with OTEL_LOG_LEVEL (they list every variable read).
        configuration.diagnosticLogger = .custom(logger)
        configuration.diagnosticLogLevel = .warning
        let service = try OTel.bootstrap(configuration: configuration, environment: telemetry.environment)
        logger.notice(
            "exporting traces over OTLP/HTTP",
            metadata: [
                "service_name": .string(telemetry.serviceName),
                "endpoint": .string(
                    telemetry.environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
                        ?? telemetry.environment["OTEL_EXPORTER_OTLP_ENDPOINT"] ?? ""),
            ])
        return service
    }
}
