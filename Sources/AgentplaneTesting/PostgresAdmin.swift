import AgentplanePostgres
import Foundation
import Logging
import PostgresNIO

/// One-off statements against the test server (creating and dropping schemas and databases).
public enum PostgresAdmin {
    /// Runs each statement on a short-lived connection to `url`.
    public static func execute(url: String, _ statements: String...) async throws {
        let configuration = try PostgresConfiguration(url: url)
        let connection = try await PostgresConnection.connect(
            configuration: PostgresConnection.Configuration(
                host: configuration.host,
                port: configuration.port,
                username: configuration.username,
                password: configuration.password,
                database: configuration.database,
                tls: .disable
            ),
            id: 1,
            logger: testLogger()
        )
        do {
            for statement in statements {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: testLogger())
            }
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Runs `body` on a connection to `url` (whose `search_path` query item, if any, is applied).
    public static func withConnection<T: Sendable>(
        url: String,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let configuration = try PostgresConfiguration(url: url)
        var connectionConfiguration = PostgresConnection.Configuration(
            host: configuration.host,
            port: configuration.port,
            username: configuration.username,
            password: configuration.password,
            database: configuration.database,
            tls: .disable
        )
        if let schema = configuration.schema {
            connectionConfiguration.options.additionalStartupParameters = [("search_path", schema)]
        }
        let connection = try await PostgresConnection.connect(
            configuration: connectionConfiguration,
            id: 2,
            logger: testLogger()
        )
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// `url` with its database name replaced.
    public static func url(_ url: String, database: String) throws -> String {
        guard var components = URLComponents(string: url) else { throw TestEnvironmentError("bad URL") }
        components.path = "/" + database
        return components.string!
    }
}
