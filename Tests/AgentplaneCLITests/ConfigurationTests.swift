import AgentplaneTesting
import Foundation
import Testing

/// The operator's view of the binary: help, one-line configuration errors with exit code 2.
@Suite struct ConfigurationTests {
    @Test func helpDocumentsCommandsOptionsAndEnvironment() async throws {
        let root = try await AgentplaneProcess.run(["--help"])
        #expect(root.status == 0)
        for word in ["serve", "migrate", "DATABASE_URL", "SERVICE_PORT", "LOG_LEVEL", "AGENTPLANE_BOOTSTRAP_KEY"] {
            #expect(root.output.contains(word), "--help lacks \(word)")
        }
        let serve = try await AgentplaneProcess.run(["serve", "--help"])
        #expect(serve.status == 0)
        for option in [
            "--host", "--port", "--data-dir", "--database-url", "--log-level", "--max-body-bytes",
            "--gateway-trust-forwarded-headers", "--health-run-retention-minutes",
        ] {
            #expect(serve.output.contains(option), "serve --help lacks \(option)")
        }
    }

    struct BadValue: Sendable, CustomTestStringConvertible {
        var arguments: [String]
        var environment: [String: String] = [:]
        var mentions: String
        var testDescription: String { (arguments + environment.map { "\($0)=\($1)" }).joined(separator: " ") }
    }

    static let badValues: [BadValue] = [
        BadValue(arguments: ["serve", "--port", "abc"], mentions: "port"),
        BadValue(arguments: ["serve", "--port", "70000"], mentions: "port"),
        BadValue(arguments: ["serve"], environment: ["SERVICE_PORT": "-1"], mentions: "port"),
        BadValue(arguments: ["serve"], environment: ["LOG_LEVEL": "loud"], mentions: "LOG_LEVEL"),
        BadValue(arguments: ["serve", "--database-url", "mysql://u:p@h/db"], mentions: "DATABASE_URL"),
        BadValue(
            arguments: ["serve"], environment: ["DATABASE_URL": "postgres://user@host"], mentions: "database name"),
        BadValue(
            arguments: ["migrate"],
            environment: ["DATABASE_URL": "postgres://u:supersecret@h:5432/db?sslmode=bogus"],
            mentions: "sslmode"
        ),
        BadValue(
            arguments: ["serve"], environment: ["AGENTPLANE_BOOTSTRAP_KEY": "letmein"],
            mentions: "AGENTPLANE_BOOTSTRAP_KEY"),
        BadValue(arguments: ["serve", "--max-body-bytes", "10"], mentions: "body limit"),
        BadValue(arguments: ["serve", "--frobnicate"], mentions: "frobnicate"),
        BadValue(arguments: ["worker", "--worker-concurrency", "0"], mentions: "--worker-concurrency"),
        BadValue(arguments: ["worker", "--lease-seconds", "1"], mentions: "--lease-seconds"),
        BadValue(arguments: ["serve", "--run-timeout-seconds", "0"], mentions: "--run-timeout-seconds"),
        BadValue(
            arguments: ["worker"], environment: ["AGENTPLANE_RUN_TIMEOUT_SECONDS": "forever"],
            mentions: "AGENTPLANE_RUN_TIMEOUT_SECONDS"),
        BadValue(arguments: ["launch"], mentions: "launch"),
        BadValue(
            arguments: ["worker", "--health-run-retention-minutes", "0"], mentions: "--health-run-retention-minutes"),
        BadValue(
            arguments: ["serve"], environment: ["AGENTPLANE_GATEWAY_TRUST_FORWARDED_HEADERS": "maybe"],
            mentions: "AGENTPLANE_GATEWAY_TRUST_FORWARDED_HEADERS"),
        BadValue(
            arguments: ["serve"],
            environment: [
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            ],
            mentions: "OTEL_EXPORTER_OTLP_PROTOCOL"),
        BadValue(
            arguments: ["serve"],
            environment: [
                "OTEL__EXPORTER_ENDPOINT": "http://127.0.0.1:4318/v1/traces", "OTEL__EXPORTER_HEADERS": "supersecret",
            ],
            mentions: "OTEL__EXPORTER_HEADERS"),
    ]

    @Test(arguments: badValues)
    func badValuesAreOneLineAndExitCodeTwo(bad: BadValue) async throws {
        let result = try await AgentplaneProcess.run(bad.arguments, environment: bad.environment)
        #expect(result.status == 2)
        let lines = result.output.split(separator: "\n")
        #expect(lines.count == 1, "expected one line, got: \(result.output)")
        #expect(lines.first?.hasPrefix("agentplane: error:") == true)
        #expect(result.output.contains(bad.mentions), "\(result.output)")
        #expect(!result.output.contains("supersecret"))
        #expect(!result.output.contains("Fatal error"))
    }
}
