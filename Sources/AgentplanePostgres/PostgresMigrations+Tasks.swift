import AgentplaneStore

extension PostgresMigrations {
    /// Migration 12: tasks, their fires (one row per fire: a fire is never doubled), the scheduler's lease,
    /// runs' task, and the task quota's counter.
    static let tasksMigration = Migration(
        version: 12,
        name: "tasks",
        statements: [
            """
            CREATE TABLE tasks (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL,
                title text NOT NULL,
                description text NOT NULL,
                schedule_kind text NOT NULL,
                schedule_expr text,
                timezone text NOT NULL,
                schedule_start timestamptz NOT NULL,
                payload jsonb NOT NULL,
                priority integer NOT NULL,
                dedupe_key text,
                dedupe_window_seconds integer NOT NULL,
                max_retries integer NOT NULL,
                backoff_strategy text NOT NULL,
                concurrency_key text,
                created_by text NOT NULL,
                called_by text NOT NULL,
                instance_id uuid,
                misfire_policy text NOT NULL,
                status text NOT NULL,
                next_run_at timestamptz,
                last_run_at timestamptz,
                condition_state boolean,
                version bigint NOT NULL,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL
            )
            """,
            "CREATE INDEX tasks_tenant_id_id ON tasks (tenant_id, id)",
            "CREATE INDEX tasks_due ON tasks (next_run_at) WHERE status = 'active' AND next_run_at IS NOT NULL",
            "CREATE INDEX tasks_event ON tasks (tenant_id) WHERE status = 'active' AND schedule_kind = 'event'",
            """
            CREATE TABLE task_fires (
                task_id uuid NOT NULL,
                fire_key text NOT NULL,
                tenant_id uuid NOT NULL,
                run_id uuid NOT NULL,
                scheduled_at timestamptz NOT NULL,
                created_at timestamptz NOT NULL,
                PRIMARY KEY (task_id, fire_key)
            )
            """,
            """
            CREATE TABLE scheduler_leases (
                name text PRIMARY KEY,
                holder text NOT NULL,
                expires_at timestamptz NOT NULL
            )
            """,
            """
            CREATE TABLE scheduler_cursors (
                name text PRIMARY KEY,
                position text NOT NULL
            )
            """,
            """
            CREATE TABLE run_steps (
                run_id uuid NOT NULL,
                attempt integer NOT NULL,
                position integer NOT NULL,
                tenant_id uuid NOT NULL,
                step_id text NOT NULL,
                uses text NOT NULL,
                outcome text NOT NULL,
                input jsonb,
                output jsonb,
                error text,
                calls integer NOT NULL,
                started_at timestamptz NOT NULL,
                duration_us bigint NOT NULL,
                PRIMARY KEY (run_id, attempt, position)
            )
            """,
            "ALTER TABLE run_steps ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE run_steps FORCE ROW LEVEL SECURITY",
            """
            CREATE POLICY run_steps_tenant_isolation ON run_steps
            USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
            """,
            "ALTER TABLE runs ADD COLUMN task_id uuid",
            "CREATE INDEX runs_tenant_id_task_id_id ON runs (tenant_id, task_id, id) WHERE task_id IS NOT NULL",
            "ALTER TABLE tenant_usage ADD COLUMN tasks bigint NOT NULL DEFAULT 0",
            "ALTER TABLE tasks ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE tasks FORCE ROW LEVEL SECURITY",
            """
            CREATE POLICY tasks_tenant_isolation ON tasks
            USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
            """,
            "ALTER TABLE task_fires ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE task_fires FORCE ROW LEVEL SECURITY",
            """
            CREATE POLICY task_fires_tenant_isolation ON task_fires
            USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
            """,
        ]
    )
}
