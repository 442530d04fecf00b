import AgentplaneStore
import Foundation
import NIOSSL
import PostgresNIO

/// Connection settings parsed from a `postgres://user:pass@host:port/db?sslmode=…` URL.
public struct PostgresConfiguration: Sendable {
    /// Server host.
    public var host: String
    /// Server port.
    public var port: Int
    /// Login role.
    public var username: String
    /// Password, if any; never logged.
    public var password: String?
    /// Database name.
    public var database: String
    /// `disable` (default), `prefer` or `require`.
    public var sslMode: String
    /// Schema to use instead of `public` (tests isolate themselves this way).
    public var schema: String?
    /// Most connections the pool opens.
    public var maximumConnections: Int

    /// Parses a URL; throws a one-line, secret-free message for anything malformed.
    public init(url text: String) throws {
        guard let components = URLComponents(string: text),
            let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme)
        else {
            throw PostgresConfigurationError(
                "the database URL must look like postgres://user:password@host:5432/database")
        }
        guard let host = components.host, !host.isEmpty else {
            throw PostgresConfigurationError("the database URL has no host")
        }
        guard let user = components.user, !user.isEmpty else {
            throw PostgresConfigurationError("the database URL has no user name")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw PostgresConfigurationError("the database URL has no database name (…/database)")
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else {
            throw PostgresConfigurationError("the database URL's port is out of range")
        }
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") },
            uniquingKeysWith: { _, last in last }
        )
        let sslMode = query["sslmode"] ?? "disable"
        guard ["disable", "prefer", "require"].contains(sslMode) else {
            throw PostgresConfigurationError("sslmode must be disable, prefer or require")
        }
        let maximumConnections = Int(query["pool_size"] ?? "20") ?? -1
        guard (1...500).contains(maximumConnections) else {
            throw PostgresConfigurationError("pool_size must be between 1 and 500")
        }
        self.host = host
        self.port = port
        self.username = components.percentEncodedUser?.removingPercentEncoding ?? user
        self.password = components.percentEncodedPassword?.removingPercentEncoding
        self.database = database
        self.sslMode = sslMode
        self.schema = query["search_path"]
        self.maximumConnections = maximumConnections
    }

    var clientConfiguration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            switch sslMode {
            case "require": .require(.makeClientConfiguration())
            case "prefer": .prefer(.makeClientConfiguration())
            default: .disable
            }
        var configuration = PostgresClient.Configuration(
            host: host,
            port: port,
            username: username,
            password: password,
            database: database,
            tls: tls
        )
        configuration.options.maximumConnections = maximumConnections
        configuration.options.minimumConnections = 0
        if let schema { configuration.options.additionalStartupParameters = [("search_path", schema)] }
        configuration.options.additionalStartupParameters.append(("application_name", "agentplane"))
        // No JIT: the run claim's estimated cost passes `jit_above_cost`, and compiling it took ~70 ms
        // of a claim that runs in under 10 ms (measured here); no statement of this store is an
        // analytical query that compilation would pay off for.
        configuration.options.additionalStartupParameters.append(("jit", "off"))
        return configuration
    }
}

/// A malformed database URL; the message never repeats the password.
public struct PostgresConfigurationError: Error, CustomStringConvertible {
    /// What is wrong.
    public var description: String
    init(_ description: String) { self.description = description }
}
