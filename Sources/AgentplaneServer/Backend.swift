import AgentplanePostgres
import AgentplaneSQLite
import AgentplaneStore
import Logging

/// The only place that names a backend: SQLite by default, PostgreSQL for a `postgres://` URL.
public enum Backend {
    /// Opens the store the configuration asks for (not yet running or migrated).
    public static func open(_ configuration: ServerConfiguration, logger: Logger) throws -> any Store {
        if let url = configuration.databaseURL {
            return PostgresStore(configuration: try PostgresConfiguration(url: url), logger: logger)
        }
        return try SQLiteStore(path: configuration.sqlitePath)
    }
}
