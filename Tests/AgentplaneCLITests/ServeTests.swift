import AgentplaneTesting
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `agentplane serve` and `migrate` as real processes on both backends.
@Suite struct ServeTests {
    static func arguments(_ database: IsolatedDatabase) -> [String] {
        var arguments = ["--data-dir", database.directory]
        if let url = database.postgresURL { arguments += ["--database-url", url] }
        return arguments
    }

    @Test(arguments: TestBackend.allCases)
    func migrateAppliesOnceThenReportsUpToDate(backend: TestBackend) async throws {
        try await withIsolatedDatabase(backend) { database in
            let first = try await AgentplaneProcess.run(["migrate"] + Self.arguments(database))
            #expect(first.status == 0, "\(first.output)")
            let versions = (1...latestSchemaVersion).map(String.init).joined(separator: ", ")
            #expect(first.output.contains("Applied migrations \(versions); schema version \(latestSchemaVersion)."))
            let second = try await AgentplaneProcess.run(["migrate"] + Self.arguments(database))
            #expect(second.status == 0)
            #expect(second.output.contains("Schema is up to date (version \(latestSchemaVersion))."))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func serveBootstrapsOnceLogsJSONAndStopsOnSIGTERM(backend: TestBackend) async throws {
        try await withIsolatedDatabase(backend) { database in
            let server = try AgentplaneProcess(["serve", "--port", "0"] + Self.arguments(database))
            let ready = try #require(
                await server.firstLine { $0.contains("agentplane is ready") }, "\(server.outputText)")
            let address = try #require(Self.address(in: ready))
            let keyLine = try #require(
                server.outputText.split(separator: "\n").first { $0.hasPrefix("Admin API key: ap_") })
            let key = String(keyLine.dropFirst("Admin API key: ".count))

            let (events, status) = try await Self.get("\(address)/api/v1/events", key: key)
            #expect(status == 200)
            #expect(events.contains("api_key.created"))
            #expect(try await Self.get("\(address)/api/v1/events", key: nil).status == 401)
            // Wait for the access log line of that request: it is written after the response.
            #expect(await server.firstLine { $0.contains(#""status":401"#) } != nil)

            server.signal(SIGTERM)
            #expect(await server.waitForExit(within: .seconds(15)) == 0)
            let output = server.outputText
            // The key is shown exactly once, and never in a log line.
            #expect(output.components(separatedBy: key).count == 2)
            let secret = String(key.split(separator: "_")[2])
            #expect(output.components(separatedBy: secret).count == 2)
            // Every other line is a JSON object with the structured fields.
            let logLines = output.split(separator: "\n").filter { $0.hasPrefix("{") }
            #expect(logLines.count >= 3)
            for line in logLines {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(object?["level"] != nil && object?["msg"] != nil && object?["ts"] != nil, "\(line)")
            }
            let access = try #require(
                logLines.first { $0.contains(#""msg":"request""#) && $0.contains(#""status":200"#) })
            for field in ["request_id", "method", "route", "status", "duration_ms"] {
                #expect(access.contains("\"\(field)\":"), "access log lacks \(field)")
            }

            // A second start on the same database: no new key.
            let again = try AgentplaneProcess(["serve", "--port", "0"] + Self.arguments(database))
            #expect(await again.firstLine { $0.contains("agentplane is ready") } != nil)
            again.signal(SIGINT)
            #expect(await again.waitForExit(within: .seconds(15)) == 0)
            #expect(!again.outputText.contains("Admin API key"))
        }
    }

    @Test func suppliedBootstrapKeyIsStoredButNotEchoed() async throws {
        try await withIsolatedDatabase(.sqlite) { database in
            let key = "ap_operator_" + String(repeating: "Z9", count: 20)
            let server = try AgentplaneProcess(
                ["serve", "--port", "0", "--data-dir", database.directory],
                environment: ["AGENTPLANE_BOOTSTRAP_KEY": key]
            )
            let ready = try #require(await server.firstLine { $0.contains("agentplane is ready") })
            let address = try #require(Self.address(in: ready))
            #expect(try await Self.get("\(address)/api/v1/events", key: key).status == 200)
            server.signal(SIGTERM)
            #expect(await server.waitForExit() == 0)
            #expect(!server.outputText.contains(key))
            #expect(server.outputText.contains("prefix operator"))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func operatorKeysAreCreatedFromTheCommandLine(backend: TestBackend) async throws {
        try await withIsolatedDatabase(backend) { database in
            let created = try await AgentplaneProcess.run(
                ["keys", "create", "--tenant", "platform", "--role", "viewer", "--scopes", "events:read"]
                    + Self.arguments(database)
            )
            #expect(created.status == 0, "\(created.output)")
            let key = try #require(created.output.split(separator: "\n").first { $0.hasPrefix("ap_") }.map(String.init))
            let unknownTenant = try await AgentplaneProcess.run(
                ["keys", "create", "--tenant", "nope", "--role", "admin"] + Self.arguments(database)
            )
            #expect(unknownTenant.status == 2)
            #expect(unknownTenant.output.contains("no tenant with the slug 'nope'"))
            let escalation = try await AgentplaneProcess.run(
                ["keys", "create", "--tenant", "platform", "--role", "viewer", "--scopes", "admin:*"]
                    + Self.arguments(database)
            )
            #expect(escalation.status == 2)

            let server = try AgentplaneProcess(["serve", "--port", "0"] + Self.arguments(database))
            let ready = try #require(await server.firstLine { $0.contains("agentplane is ready") })
            let address = try #require(Self.address(in: ready))
            #expect(try await Self.get("\(address)/api/v1/events", key: key).status == 200)
            #expect(try await Self.get("\(address)/api/v1/audit-log", key: key).status == 403)
            server.signal(SIGTERM)
            #expect(await server.waitForExit() == 0)
        }
    }

    @Test func aSecondNodeOnTheSameSQLiteFileIsRefused() async throws {
        try await withIsolatedDatabase(.sqlite) { database in
            let first = try AgentplaneProcess(["serve", "--port", "0", "--data-dir", database.directory])
            #expect(await first.firstLine { $0.contains("agentplane is ready") } != nil)
            let second = try await AgentplaneProcess.run(["serve", "--port", "0", "--data-dir", database.directory])
            #expect(second.status == 1)
            #expect(second.output.contains("Another Agentplane node"))
            first.signal(SIGTERM)
            #expect(await first.waitForExit() == 0)
        }
    }

    static func address(in line: String) -> String? {
        guard let range = line.range(of: #"http://127\.0\.0\.1:\d+"#, options: .regularExpression) else { return nil }
        return String(line[range])
    }

    static func get(_ url: String, key: String?) async throws -> (body: String, status: Int) {
        var request = URLRequest(url: URL(string: url)!)
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return (String(decoding: data, as: UTF8.self), (response as? HTTPURLResponse)?.statusCode ?? 0)
    }
}
