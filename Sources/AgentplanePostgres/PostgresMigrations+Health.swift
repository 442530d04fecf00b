import AgentplaneStore

extension PostgresMigrations {
    /// Migration 18: instances' health checks (the newest few per instance, removed with it).
    static let healthMigration = Migration(
        version: 18,
        name: "instance_health_checks",
        statements: [
            """
            CREATE TABLE instance_health_checks (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL,
                instance_id uuid NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
                checked_at timestamptz NOT NULL,
                healthy boolean NOT NULL,
                latency_ms integer NOT NULL,
                detail text NOT NULL
            )
            """,
            "CREATE INDEX instance_health_checks_recent ON instance_health_checks (instance_id, checked_at, id)",
            "ALTER TABLE instance_health_checks ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE instance_health_checks FORCE ROW LEVEL SECURITY",
            """
            CREATE POLICY instance_health_checks_tenant_isolation ON instance_health_checks
            USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
            """,
        ]
    )
}
