import AgentplaneStore

extension PostgresMigrations {
    /// Migration 15: named consumers and commands.
    static let commandsMigration = Migration(
        version: 15,
        name: "consumers_and_commands",
        statements: [
            """
            CREATE TABLE consumers (
                tenant_id uuid NOT NULL,
                name text NOT NULL,
                event_types jsonb NOT NULL,
                subject text,
                format text NOT NULL,
                committed_offset text COLLATE "C" NOT NULL,
                version bigint NOT NULL,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                acked_at timestamptz,
                CONSTRAINT consumers_tenant_id_name PRIMARY KEY (tenant_id, name)
            )
            """,
            """
            CREATE TABLE commands (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL,
                action text NOT NULL,
                data jsonb NOT NULL,
                request_id text NOT NULL,
                correlation_id text NOT NULL,
                client_id text NOT NULL,
                user_id text,
                status text NOT NULL,
                result jsonb,
                error jsonb,
                run_id uuid NOT NULL,
                attempts integer NOT NULL,
                principal jsonb NOT NULL,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                finished_at timestamptz,
                CONSTRAINT commands_tenant_id_request_id UNIQUE (tenant_id, request_id)
            )
            """,
            "CREATE INDEX commands_tenant_id_id ON commands (tenant_id, id)",
            "ALTER TABLE consumers ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE consumers FORCE ROW LEVEL SECURITY",
            """
            CREATE POLICY consumers_tenant_isolation ON consumers
            USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
            """,
            "ALTER TABLE commands ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE commands FORCE ROW LEVEL SECURITY",
            """
            CREATE POLICY commands_tenant_isolation ON commands
            USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
            """,
        ]
    )
}
