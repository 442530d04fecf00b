import AgentplaneStore

extension PostgresMigrations {
    /// Migration 13: tenants' secrets (encrypted values) and MCP servers.
    static let secretsMigration = Migration(
        version: 13,
        name: "secrets_and_mcp_servers",
        statements: [
            """
            CREATE TABLE secrets (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL,
                name text NOT NULL,
                ciphertext text NOT NULL,
                version bigint NOT NULL,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                CONSTRAINT secrets_tenant_id_name UNIQUE (tenant_id, name)
            )
            """,
            """
            CREATE TABLE mcp_servers (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL,
                name text NOT NULL,
                transport text NOT NULL,
                command text,
                args jsonb NOT NULL,
                env jsonb NOT NULL,
                url text,
                headers jsonb NOT NULL,
                version bigint NOT NULL,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                CONSTRAINT mcp_servers_tenant_id_name UNIQUE (tenant_id, name)
            )
            """,
            "ALTER TABLE secrets ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE secrets FORCE ROW LEVEL SECURITY",
            """
            CREATE POLICY secrets_tenant_isolation ON secrets
            USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
            """,
            "ALTER TABLE mcp_servers ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE mcp_servers FORCE ROW LEVEL SECURITY",
            """
            CREATE POLICY mcp_servers_tenant_isolation ON mcp_servers
            USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
            """,
        ]
    )
}
