import AgentplaneStore

extension SQLiteMigrations {
    /// Migration 17: instances' gateway activations (one row per instance, removed with it).
    static let gatewayMigration = Migration(
        version: 17,
        name: "instance_activations",
        statements: [
            """
            CREATE TABLE instance_activations (
                instance_id TEXT PRIMARY KEY REFERENCES instances (id) ON DELETE CASCADE,
                tenant_id TEXT NOT NULL,
                active INTEGER NOT NULL,
                activated_at INTEGER,
                activated_by TEXT,
                deactivated_at INTEGER,
                updated_at INTEGER NOT NULL
            )
            """,
            "CREATE INDEX instance_activations_active ON instance_activations (instance_id) WHERE active = 1",
        ]
    )
}
