extension Migration {
    /// Migration 20, the same SQL on both backends: ended health-monitoring runs are purged after their own,
    /// shorter retention (`RunRetention.healthSeconds`); this partial index finds them without walking every
    /// other ended run.
    public static let healthRunRetention = Migration(
        version: 20,
        name: "health_run_retention",
        statements: [
            "CREATE INDEX runs_health_finished ON runs (finished_at) WHERE \(RunRetention.healthRunsPredicate)"
                + " AND finished_at IS NOT NULL"
        ]
    )
}
