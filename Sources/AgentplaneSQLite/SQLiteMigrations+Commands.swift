import AgentplaneStore

extension SQLiteMigrations {
    /// Migration 15: named consumers and commands.
    static let commandsMigration = Migration(
        version: 15,
        name: "consumers_and_commands",
        statements: []
    )
}
