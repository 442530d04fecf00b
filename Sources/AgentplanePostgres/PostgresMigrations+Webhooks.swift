import AgentplaneStore

extension PostgresMigrations {
    /// Migration 14: webhook subscriptions, their deliveries and delivery attempts.
    static let webhooksMigration = Migration(
        version: 14,
        name: "webhooks",
        statements: [
            """
            CREATE TABLE webhooks (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL,
                url text NOT NULL,
                event_types jsonb NOT NULL,
                description text NOT NULL,
                enabled boolean NOT NULL,
                format text NOT NULL,
                secret_sealed text NOT NULL,
                previous_secret_sealed text,
                previous_secret_expires_at timestamptz,
                consecutive_failures integer NOT NULL DEFAULT 0,
                disabled_reason text,
                version bigint NOT NULL,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL
            )
            """,
            "CREATE INDEX webhooks_tenant_id_id ON webhooks (tenant_id, id)",
            "CREATE INDEX webhooks_enabled ON webhooks (tenant_id) WHERE enabled",
            """
            CREATE TABLE webhook_deliveries (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL,
                webhook_id uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
                event_id text NOT NULL,
                event_type text NOT NULL,
                payload text NOT NULL,
                status text NOT NULL,
                attempts integer NOT NULL DEFAULT 0,
                last_status_code integer,
                last_error text,
                run_id uuid,
                is_test boolean NOT NULL DEFAULT false,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                CONSTRAINT webhook_deliveries_webhook_id_event_id UNIQUE (webhook_id, event_id)
            )
            """,
            "CREATE INDEX webhook_deliveries_list ON webhook_deliveries (tenant_id, webhook_id, status, id)",
            """
            CREATE TABLE webhook_attempts (
                delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
                tenant_id uuid NOT NULL,
                number integer NOT NULL,
                attempted_at timestamptz NOT NULL,
                status_code integer,
                latency_ms integer NOT NULL,
                response_snippet text,
                error text,
                PRIMARY KEY (delivery_id, number)
            )
            """,
            "ALTER TABLE webhooks ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE webhooks FORCE ROW LEVEL SECURITY",
            """
            CREATE POLICY webhooks_tenant_isolation ON webhooks
            USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
            """,
            "ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY",
            """
            CREATE POLICY webhook_deliveries_tenant_isolation ON webhook_deliveries
            USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
            """,
            "ALTER TABLE webhook_attempts ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE webhook_attempts FORCE ROW LEVEL SECURITY",
            """
            CREATE POLICY webhook_attempts_tenant_isolation ON webhook_attempts
            USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
            """,
        ]
    )
}
