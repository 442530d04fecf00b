import AgentplaneStore

extension PostgresMigrations {
    /// Migration 20: ended health-monitoring runs are purged after their own, shorter retention
    /// (`RunRetention.healthSeconds`); this partial index finds them without walking every other ended run.
    static let healthRetentionMigration = Migration(
        version: 20,
        name: "health_run_retention",
        statements: [
            """
            CREATE INDEX runs_health_finished ON runs (finished_at)
            WHERE kind IN ('instance.health', 'instance.health_sweep') AND status IN ('succeeded', 'cancelled')
            """
        ]
    )
}
