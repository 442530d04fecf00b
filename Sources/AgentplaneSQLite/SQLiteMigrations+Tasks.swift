import AgentplaneStore

extension SQLiteMigrations {
    /// Migration 12: tasks, their fires (one row per fire: a fire is never doubled), the scheduler's lease,
    /// runs' task, and the task quota's counter.
    static let tasksMigration = Migration(
        version: 12,
        name: "tasks",
        statements: [
            """
            CREATE TABLE tasks (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL,
                title TEXT NOT NULL,
                description TEXT NOT NULL,
                schedule_kind TEXT NOT NULL,
                schedule_expr TEXT,
                timezone TEXT NOT NULL,
                schedule_start INTEGER NOT NULL,
                payload TEXT NOT NULL,
                priority INTEGER NOT NULL,
                dedupe_key TEXT,
                dedupe_window_seconds INTEGER NOT NULL,
                max_retries INTEGER NOT NULL,
                backoff_strategy TEXT NOT NULL,
                concurrency_key TEXT,
                created_by TEXT NOT NULL,
                called_by TEXT NOT NULL,
                instance_id TEXT,
                misfire_policy TEXT NOT NULL,
                status TEXT NOT NULL,
                next_run_at INTEGER,
                last_run_at INTEGER,
                condition_state INTEGER,
                version INTEGER NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            )
            """,
            "CREATE INDEX tasks_tenant_id_id ON tasks (tenant_id, id)",
            "CREATE INDEX tasks_due ON tasks (next_run_at) WHERE status = 'active' AND next_run_at IS NOT NULL",
            "CREATE INDEX tasks_event ON tasks (tenant_id) WHERE status = 'active' AND schedule_kind = 'event'",
            """
            CREATE TABLE task_fires (
                task_id TEXT NOT NULL,
                fire_key TEXT NOT NULL,
                tenant_id TEXT NOT NULL,
                run_id TEXT NOT NULL,
                scheduled_at INTEGER NOT NULL,
                created_at INTEGER NOT NULL,
                PRIMARY KEY (task_id, fire_key)
            )
            """,
            """
            CREATE TABLE scheduler_leases (
                name TEXT PRIMARY KEY,
                holder TEXT NOT NULL,
                expires_at INTEGER NOT NULL
            )
            """,
            """
            CREATE TABLE scheduler_cursors (
                name TEXT PRIMARY KEY,
                position TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE run_steps (
                run_id TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                position INTEGER NOT NULL,
                tenant_id TEXT NOT NULL,
                step_id TEXT NOT NULL,
                uses TEXT NOT NULL,
                outcome TEXT NOT NULL,
                input TEXT,
                output TEXT,
                error TEXT,
                calls INTEGER NOT NULL,
                started_at INTEGER NOT NULL,
                duration_us INTEGER NOT NULL,
                PRIMARY KEY (run_id, attempt, position)
            )
            """,
            "ALTER TABLE runs ADD COLUMN task_id TEXT",
            "CREATE INDEX runs_tenant_id_task_id_id ON runs (tenant_id, task_id, id) WHERE task_id IS NOT NULL",
            "ALTER TABLE tenant_usage ADD COLUMN tasks INTEGER NOT NULL DEFAULT 0",
        ]
    )
}
