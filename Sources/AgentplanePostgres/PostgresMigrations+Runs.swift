import AgentplaneStore

extension PostgresMigrations {
    /// Migration 10: the job engine's runs, their attempts, and the per-(tenant, key) concurrency slots.
    static let runsMigration = Migration(
        version: 10,
        name: "runs",
        statements: [
            """
            CREATE TABLE runs (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL,
                kind text NOT NULL,
                arguments jsonb NOT NULL,
                priority integer NOT NULL,
                status text NOT NULL,
                run_at timestamptz NOT NULL,
                attempt integer NOT NULL,
                attempt_base integer NOT NULL,
                max_attempts integer NOT NULL,
                backoff_strategy text NOT NULL,
                backoff_base_seconds double precision NOT NULL,
                backoff_cap_seconds double precision NOT NULL,
                dedupe_key text,
                dedupe_until timestamptz,
                concurrency_key text,
                concurrency_limit integer NOT NULL,
                instance_id uuid,
                worker_id text,
                lease_expires_at timestamptz,
                cancel_requested boolean NOT NULL,
                result jsonb,
                last_error text,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                finished_at timestamptz
            )
            """,
            """
            CREATE INDEX runs_claimable ON runs (tenant_id, priority, run_at, id)
            WHERE status IN ('queued', 'failed')
            """,
            "CREATE INDEX runs_leases ON runs (lease_expires_at) WHERE status = 'running'",
            """
            CREATE INDEX runs_running_concurrency_key ON runs (tenant_id, concurrency_key)
            WHERE status = 'running' AND concurrency_key IS NOT NULL
            """,
            "CREATE UNIQUE INDEX runs_dedupe ON runs (tenant_id, kind, dedupe_key) WHERE dedupe_key IS NOT NULL",
            "CREATE INDEX runs_tenant_id_id ON runs (tenant_id, id)",
            "CREATE INDEX runs_finished ON runs (status, finished_at) WHERE finished_at IS NOT NULL",
            """
            CREATE TABLE run_attempts (
                run_id uuid NOT NULL,
                tenant_id uuid NOT NULL,
                number integer NOT NULL,
                worker_id text NOT NULL,
                started_at timestamptz NOT NULL,
                ended_at timestamptz,
                outcome text NOT NULL,
                error text,
                PRIMARY KEY (run_id, number)
            )
            """,
            // Running runs per (tenant, concurrency key): claims take slots with a conditional increment
            // (re-checked on the newest row version under concurrent claims), endings give them back.
            """
            CREATE TABLE run_concurrency (
                tenant_id uuid NOT NULL,
                key text NOT NULL,
                running integer NOT NULL,
                granted integer NOT NULL,
                limit_seen integer NOT NULL,
                PRIMARY KEY (tenant_id, key)
            )
            """,
            "ALTER TABLE runs ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE runs FORCE ROW LEVEL SECURITY",
            """
            CREATE POLICY runs_tenant_isolation ON runs
            USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
            """,
            "ALTER TABLE run_attempts ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE run_attempts FORCE ROW LEVEL SECURITY",
            """
            CREATE POLICY run_attempts_tenant_isolation ON run_attempts
            USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
            """,
            "ALTER TABLE run_concurrency ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE run_concurrency FORCE ROW LEVEL SECURITY",
            """
            CREATE POLICY run_concurrency_tenant_isolation ON run_concurrency
            USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
            """,
        ]
    )
}
