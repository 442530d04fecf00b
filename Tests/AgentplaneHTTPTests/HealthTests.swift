import AgentplaneCore
import AgentplaneServer
import AgentplaneTesting
import HTTPTypes
import Testing

@Suite(.timeLimit(.minutes(3))) struct HealthTests {
    @Test(arguments: TestBackend.allCases)
    func livenessRoutesAnswerOK(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            for path in ["/health", "/health/live", "/healthz"] {
                let response = try await client.request(.get, path, key: nil)
                #expect(response.status == .ok, "\(path)")
                #expect(try response.json() == .object(["status": .string("ok")]), "\(path)")
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func readinessPingsTheDatabase(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            for path in ["/health/ready", "/readyz"] {
                let response = try await client.request(.get, path, key: nil)
                #expect(response.status == .ok)
                #expect(
                    try response.json()
                        == .object([
                            "status": "ready", "database": "connected", "backend": .string(backend.rawValue),
                        ])
                )
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func internalHealthHasSeedZeroShape(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let response = try await client.request(.get, "/internal/health", key: nil)
            #expect(response.status == .ok)
            let body = try response.json()
            #expect(Set(body.objectValue?.keys ?? [:].keys) == ["status", "service", "version", "database"])
            #expect(body["status"] == "healthy")
            #expect(body["service"] == "agentplane")
            #expect(body["database"] == "connected")
            #expect(body["version"]?.stringValue?.isEmpty == false)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func versionNamesBackendAndSchema(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let body = try await client.request(.get, "/version", key: nil).json()
            #expect(body["backend"] == .string(backend.rawValue))
            #expect(body["schema_version"] == .int(Int64(latestSchemaVersion)))
            #expect(body["service"] == "agentplane")
        }
    }

    /// A real outage: the server's database is dropped (connections terminated) while it runs.
    @Test func readinessGoesRedWhenPostgreSQLIsGone() async throws {
        let url = try testPostgresURL()
        let name = "down_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        try await PostgresAdmin.execute(url: url, "CREATE DATABASE \(name)")
        let databaseURL = try PostgresAdmin.url(url, database: name)
        var configuration = try ServerConfiguration(
            port: 0, dataDirectory: "/tmp", databaseURL: databaseURL, bootstrapKey: testAdminKey)
        // The probe is what is tested; a worker on a database that vanished only adds connection
        // retries to the shutdown (bounded by the graceful-shutdown limit in `serve`).
        configuration.engine = .noWorker
        let app = try AgentplaneApplication.build(
            configuration: configuration,
            logger: testLogger(),
            announce: { _ in }
        )
        try await app.test(.live) { client in
            #expect(try await client.request(.get, "/health/ready", key: nil).status == .ok)
            try await PostgresAdmin.execute(url: url, "DROP DATABASE \(name) WITH (FORCE)")
            let ready = try await client.request(.get, "/health/ready", key: nil)
            #expect(ready.status == .serviceUnavailable)
            #expect(ready.headers[.contentType] == "application/problem+json")
            #expect(try ready.json()["code"] == "DATABASE_UNAVAILABLE")
            let internalHealth = try await client.request(.get, "/internal/health", key: nil)
            #expect(internalHealth.status == .serviceUnavailable)
            #expect(try internalHealth.json()["database"] == "disconnected")
            #expect(try internalHealth.json()["status"] == "unhealthy")
            // Liveness does not depend on the database.
            #expect(try await client.request(.get, "/health", key: nil).status == .ok)
        }
    }
}
