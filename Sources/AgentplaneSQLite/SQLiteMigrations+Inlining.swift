import AgentplaneStore

extension SQLiteMigrations {
    /// Migration 19: nothing to change here. PostgreSQL's migration 19 gives its time conversion functions
    /// inlinable bodies; SQLite stores times as integer microseconds and has no such functions. The version is
    /// recorded so that both backends keep one numbered, named sequence.
    static let inliningMigration = Migration(version: 19, name: "inlinable_time_functions", statements: [])
}
