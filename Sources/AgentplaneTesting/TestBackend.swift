import AgentplanePostgres
import AgentplaneSQLite
import AgentplaneServer
import AgentplaneStore
import Foundation
import Logging
import PostgresNIO

/// The backends every store and HTTP test runs against.
public enum TestBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    public var description: String { rawValue }
}

/// A test environment problem, reported as a failure (never a silent skip).
public struct TestEnvironmentError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The HS256 secret live test servers sign access tokens with (tests forge tokens with it).
public let testJWTSecret = "test-secret-" + String(repeating: "s", count: 40)

/// The schema version both backends migrate to (the conformance suite checks they agree).
public var latestSchemaVersion: Int { SQLiteStore.latestSchemaVersion }

/// Quiet loggers for tests: errors only (a pool leased before `run()` starts warns, harmlessly).
public func testLogger(_ label: String = "agentplane.test") -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .error
    return logger
}

/// A database no other test uses: a fresh SQLite file, or a fresh PostgreSQL schema.
public struct IsolatedDatabase: Sendable {
    /// Which backend.
    public let backend: TestBackend
    /// The temporary folder (SQLite file lives here as `agentplane.sqlite`).
    public let directory: String
    /// `postgres://…?search_path=<schema>` for PostgreSQL; nil for SQLite.
    public let postgresURL: String?
    /// The schema created for this test (PostgreSQL only).
    public let schema: String?

    /// The SQLite file path.
    public var sqlitePath: String { (directory as NSString).appendingPathComponent("agentplane.sqlite") }

    /// A server configuration pointing at this database.
    public func serverConfiguration(
        port: Int = 0,
        maximumBodyBytes: Int = ServerConfiguration.defaultMaximumBodyBytes,
        bootstrapKey: String? = nil,
        requestsPerMinutePerCredential: Int = ServerConfiguration.defaultRequestsPerMinutePerCredential,
        jwtSecret: String? = testJWTSecret,
        oidc: OIDCConfiguration? = nil
    ) throws -> ServerConfiguration {
        try ServerConfiguration(
            host: "127.0.0.1",
            port: port,
            dataDirectory: directory,
            databaseURL: postgresURL,
            logLevel: .warning,
            maximumBodyBytes: maximumBodyBytes,
            bootstrapKey: bootstrapKey,
            requestsPerMinutePerCredential: requestsPerMinutePerCredential,
            jwtSecret: jwtSecret,
            oidc: oidc,
            bcryptCost: 4,
            shutdownTimeout: .seconds(10)
        )
    }

    /// Opens a store on this database (not running, not migrated).
    public func openStore() throws -> any Store {
        switch backend {
        case .sqlite: try SQLiteStore(path: sqlitePath)
        case .postgres: PostgresStore(configuration: try PostgresConfiguration(url: postgresURL!), logger: testLogger())
        }
    }
}

/// The PostgreSQL URL tests use; a clear failure when it is missing.
public func testPostgresURL() throws -> String {
    guard let url = ProcessInfo.processInfo.environment["AGENTPLANE_TEST_POSTGRES_URL"], !url.isEmpty else {
        throw TestEnvironmentError(
            "PostgreSQL tests need AGENTPLANE_TEST_POSTGRES_URL; run scripts/test, which starts a throwaway server"
        )
    }
    return url
}

/// Runs `body` with a database of its own, removed afterwards.
public func withIsolatedDatabase<T: Sendable>(
    _ backend: TestBackend,
    _ body: (IsolatedDatabase) async throws -> T
) async throws -> T {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("agentplane-test-\(UUID().uuidString.prefix(8).lowercased())").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    switch backend {
    case .sqlite:
        return try await body(IsolatedDatabase(backend: .sqlite, directory: directory, postgresURL: nil, schema: nil))
    case .postgres:
        let url = try testPostgresURL()
        let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        try await PostgresAdmin.execute(url: url, "CREATE SCHEMA \(schema)")
        let database = IsolatedDatabase(
            backend: .postgres,
            directory: directory,
            postgresURL: url + (url.contains("?") ? "&" : "?") + "search_path=\(schema)",
            schema: schema
        )
        do {
            let result = try await body(database)
            try await PostgresAdmin.execute(url: url, "DROP SCHEMA \(schema) CASCADE")
            return result
        } catch {
            try? await PostgresAdmin.execute(url: url, "DROP SCHEMA \(schema) CASCADE")
            throw error
        }
    }
}

/// Runs `body` with a running, migrated store on an isolated database.
public func withStore<T: Sendable>(_ backend: TestBackend, _ body: (any Store) async throws -> T) async throws -> T {
    try await withIsolatedDatabase(backend) { database in
        let store = try database.openStore()
        return try await withRunningStore(store) { store in
            _ = try await store.migrate()
            return try await body(store)
        }
    }
}

/// Runs `store` (its connection pool) for the duration of `body`.
public func withRunningStore<T: Sendable>(_ store: any Store, _ body: (any Store) async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await store.run() }
        defer { group.cancelAll() }
        return try await body(store)
    }
}
