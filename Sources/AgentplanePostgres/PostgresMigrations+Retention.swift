import AgentplaneStore

extension PostgresMigrations {
    /// Migration 16: an index on when events were recorded, for the optional event retention sweep.
    static let eventRetentionMigration = Migration(
        version: 16,
        name: "event_retention",
        statements: ["CREATE INDEX events_recorded_at ON events (recorded_at)"]
    )
}
