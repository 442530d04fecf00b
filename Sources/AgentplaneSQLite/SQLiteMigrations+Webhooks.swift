import AgentplaneStore

extension SQLiteMigrations {
    /// Migration 14: webhook subscriptions, their deliveries and delivery attempts.
    static let webhooksMigration = Migration(
        version: 14,
        name: "webhooks",
        statements: [
            """
            CREATE TABLE webhooks (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL,
                url TEXT NOT NULL,
                event_types TEXT NOT NULL,
                description TEXT NOT NULL,
                enabled INTEGER NOT NULL,
                format TEXT NOT NULL,
                secret_sealed TEXT NOT NULL,
                previous_secret_sealed TEXT,
                previous_secret_expires_at INTEGER,
                consecutive_failures INTEGER NOT NULL DEFAULT 0,
                disabled_reason TEXT,
                version INTEGER NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            )
            """,
            "CREATE INDEX webhooks_tenant_id_id ON webhooks (tenant_id, id)",
            "CREATE INDEX webhooks_enabled ON webhooks (enabled, tenant_id)",
            """
            CREATE TABLE webhook_deliveries (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL,
                webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
                event_id TEXT NOT NULL,
                event_type TEXT NOT NULL,
                payload TEXT NOT NULL,
                status TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                last_status_code INTEGER,
                last_error TEXT,
                run_id TEXT,
                is_test INTEGER NOT NULL DEFAULT 0,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            )
            """,
            "CREATE UNIQUE INDEX webhook_deliveries_webhook_id_event_id ON webhook_deliveries (webhook_id, event_id)",
            "CREATE INDEX webhook_deliveries_list ON webhook_deliveries (tenant_id, webhook_id, status, id)",
            """
            CREATE TABLE webhook_attempts (
                delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
                tenant_id TEXT NOT NULL,
                number INTEGER NOT NULL,
                attempted_at INTEGER NOT NULL,
                status_code INTEGER,
                latency_ms INTEGER NOT NULL,
                response_snippet TEXT,
                error TEXT,
                PRIMARY KEY (delivery_id, number)
            )
            """,
        ]
    )
}
