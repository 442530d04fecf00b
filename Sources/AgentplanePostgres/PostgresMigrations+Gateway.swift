import AgentplaneStore

extension PostgresMigrations {
    /// Migration 17: instances' gateway activations (one row per instance, removed with it).
    static let gatewayMigration = Migration(
        version: 17,
        name: "instance_activations",
        statements: [
            """
            CREATE TABLE instance_activations (
                instance_id uuid NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
                tenant_id uuid NOT NULL,
                active boolean NOT NULL,
                activated_at timestamptz,
                activated_by text,
                deactivated_at timestamptz,
                updated_at timestamptz NOT NULL,
                CONSTRAINT instance_activations_instance_id PRIMARY KEY (instance_id)
            )
            """,
            "CREATE INDEX instance_activations_active ON instance_activations (instance_id) WHERE active",
            "ALTER TABLE instance_activations ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE instance_activations FORCE ROW LEVEL SECURITY",
            """
            CREATE POLICY instance_activations_tenant_isolation ON instance_activations
            USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
            """,
        ]
    )
}
