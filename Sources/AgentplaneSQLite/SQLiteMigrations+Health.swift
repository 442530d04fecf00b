import AgentplaneStore

extension SQLiteMigrations {
    /// Migration 18: instances' health checks (the newest few per instance, removed with it).
    static let healthMigration = Migration(
        version: 18,
        name: "instance_health_checks",
        statements: [
            """
            CREATE TABLE instance_health_checks (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL,
                instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
                checked_at INTEGER NOT NULL,
                healthy INTEGER NOT NULL,
                latency_ms INTEGER NOT NULL,
                detail TEXT NOT NULL
            )
            """,
            "CREATE INDEX instance_health_checks_recent ON instance_health_checks (instance_id, checked_at, id)",
        ]
    )
}
