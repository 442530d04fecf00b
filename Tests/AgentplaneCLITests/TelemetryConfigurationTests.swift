import AgentplaneServer
import Testing

/// Which `OTEL_*` variables turn tracing on, and what the exporter is given: the standard names, seed 003's
/// aliases (the standard name winning), the switches that keep it off, and the headers kept out of the variables
/// swift-otel reads (it logs them).
@Suite struct TelemetryConfigurationTests {
    @Test(arguments: [
        [:],
        ["OTEL_SERVICE_NAME": "api"],
        ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"],
        ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_TRACES_EXPORTER": "none"],
        ["OTEL__EXPORTER_ENDPOINT": " "],
    ])
    func tracingIsOffWithoutAnEndpointOrWhenSwitchedOff(environment: [String: String]) throws {
        #expect(try TelemetryConfiguration(environment: environment) == nil)
    }

    @Test func theStandardVariablesPassToTheExporter() throws {
        let telemetry = try #require(
            try TelemetryConfiguration(environment: [
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_BSP_SCHEDULE_DELAY": "100",
                "OTEL_SDK_DISABLED": "false", "PATH": "/bin",
            ]))
        #expect(telemetry.serviceName == "agentplane")
        #expect(
            telemetry.environment == [
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_BSP_SCHEDULE_DELAY": "100",
                "OTEL_SERVICE_NAME": "agentplane",
            ])
        #expect(telemetry.headers.isEmpty)
    }

    @Test func seedThreeNamesAreAliasesTheStandardOnesWin() throws {
        let aliased = try #require(
            try TelemetryConfiguration(environment: [
                "OTEL__EXPORTER_ENDPOINT": "http://jaeger:4318/v1/traces", "OTEL__SERVICE_NAME": "idun",
                "OTEL__EXPORTER_HEADERS": "authorization=Bearer%20token, x-team = a=b",
            ]))
        #expect(aliased.environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] == "http://jaeger:4318/v1/traces")
        #expect(aliased.serviceName == "idun" && aliased.environment["OTEL_SERVICE_NAME"] == "idun")
        #expect(aliased.headers.map(\.name) == ["authorization", "x-team"])
        #expect(aliased.headers.map(\.value) == ["Bearer token", "a=b"])

        let standard = try #require(
            try TelemetryConfiguration(environment: [
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL__EXPORTER_ENDPOINT": "http://old",
                "OTEL_SERVICE_NAME": "api", "OTEL__SERVICE_NAME": "idun",
                "OTEL_EXPORTER_OTLP_HEADERS": "x-key=1", "OTEL__EXPORTER_HEADERS": "x-key=2",
                "OTEL_EXPORTER_OTLP_METRICS_HEADERS": "x-key=3",
            ]))
        #expect(standard.environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] == nil)
        #expect(standard.serviceName == "api")
        #expect(standard.headers.map(\.value) == ["1"])
        #expect(
            !standard.environment.keys.contains { $0.hasSuffix("_HEADERS") }, "headers never reach swift-otel's log")
    }

    @Test(arguments: [
        ["OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"], ["OTEL_TRACES_EXPORTER": "zipkin"],
        ["OTEL_EXPORTER_OTLP_HEADERS": "secret-without-a-name"],
    ])
    func whatThisBuildCannotExportIsRefused(extra: [String: String]) throws {
        let environment = extra.merging(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"]) { new, _ in new }
        #expect(throws: ConfigurationError.self) { try TelemetryConfiguration(environment: environment) }
    }
}
