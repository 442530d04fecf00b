import AgentplaneStore

/// The SQLite schema, step by step; numbering matches `PostgresMigrations`.
///
/// Timestamps are INTEGER microseconds since the Unix epoch (exact round-trip); JSON is TEXT.
enum SQLiteMigrations {
    static let all: [Migration] = [
        Migration(
            version: 1,
            name: "events_and_api_keys",
            statements: [
                """
                CREATE TABLE event_sequences (
                    tenant_id TEXT PRIMARY KEY,
                    last_sequence INTEGER NOT NULL
                )
                """,
                """
                CREATE TABLE events (
                    tenant_id TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    id TEXT NOT NULL,
                    source TEXT NOT NULL,
                    type TEXT NOT NULL,
                    subject TEXT,
                    time INTEGER NOT NULL,
                    data_content_type TEXT NOT NULL,
                    data TEXT NOT NULL,
                    correlation_id TEXT,
                    causation_id TEXT,
                    request_id TEXT,
                    user_id TEXT,
                    recorded_at INTEGER NOT NULL,
                    PRIMARY KEY (tenant_id, sequence)
                ) WITHOUT ROWID
                """,
                """
                CREATE UNIQUE INDEX events_tenant_id_id ON events (tenant_id, id)
                """,
                """
                CREATE INDEX events_tenant_id_type_sequence ON events (tenant_id, type, sequence)
                """,
                """
                CREATE INDEX events_tenant_id_subject_sequence ON events (tenant_id, subject, sequence)
                """,
                """
                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY,
                    tenant_id TEXT NOT NULL,
                    prefix TEXT NOT NULL,
                    secret_hash TEXT NOT NULL,
                    name TEXT NOT NULL,
                    role TEXT NOT NULL,
                    scopes TEXT NOT NULL,
                    is_bootstrap INTEGER NOT NULL DEFAULT 0,
                    created_at INTEGER NOT NULL,
                    last_used_at INTEGER,
                    expires_at INTEGER,
                    revoked_at INTEGER
                )
                """,
                """
                CREATE UNIQUE INDEX api_keys_prefix ON api_keys (prefix)
                """,
                """
                CREATE UNIQUE INDEX api_keys_is_bootstrap ON api_keys (is_bootstrap) WHERE is_bootstrap = 1
                """,
            ]
        ),
        Migration(
            version: 2,
            name: "tenants_service_accounts_audit_log",
            statements: [
                """
                CREATE TABLE tenants (
                    id TEXT PRIMARY KEY,
                    slug TEXT NOT NULL,
                    name TEXT NOT NULL,
                    status TEXT NOT NULL,
                    max_instances INTEGER NOT NULL,
                    max_tasks INTEGER NOT NULL,
                    max_kb_entries INTEGER NOT NULL,
                    requests_per_minute INTEGER NOT NULL,
                    version INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    deleted_at INTEGER
                )
                """,
                "CREATE UNIQUE INDEX tenants_slug ON tenants (slug) WHERE deleted_at IS NULL",
                """
                INSERT INTO tenants VALUES ('00000000-0000-0000-0000-000000000000', 'platform', 'Platform', 'active',
                    0, 0, 0, 1000000, 1, 0, 0, NULL)
                """,
                """
                CREATE TABLE service_accounts (
                    id TEXT PRIMARY KEY,
                    tenant_id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    description TEXT NOT NULL,
                    role TEXT NOT NULL,
                    scopes TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    deleted_at INTEGER
                )
                """,
                """
                CREATE UNIQUE INDEX service_accounts_tenant_id_name ON service_accounts (tenant_id, name)
                WHERE deleted_at IS NULL
                """,
                "ALTER TABLE api_keys ADD COLUMN service_account_id TEXT",
                "CREATE INDEX api_keys_service_account_id ON api_keys (service_account_id)",
                """
                CREATE TABLE audit_log (
                    id TEXT PRIMARY KEY,
                    tenant_id TEXT NOT NULL,
                    occurred_at INTEGER NOT NULL,
                    principal_id TEXT NOT NULL,
                    key_prefix TEXT,
                    operation TEXT NOT NULL,
                    resource_type TEXT NOT NULL,
                    resource_id TEXT,
                    request_id TEXT,
                    client_address TEXT,
                    outcome TEXT NOT NULL,
                    status INTEGER NOT NULL,
                    details TEXT NOT NULL
                )
                """,
                "CREATE INDEX audit_log_tenant_id_id ON audit_log (tenant_id, id)",
            ]
        ),
        Migration(
            version: 3,
            name: "idempotency_keys",
            statements: [
                """
                CREATE TABLE idempotency_keys (
                    tenant_id TEXT NOT NULL,
                    principal_id TEXT NOT NULL,
                    key TEXT NOT NULL,
                    fingerprint TEXT NOT NULL,
                    status INTEGER,
                    headers TEXT,
                    body BLOB,
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    PRIMARY KEY (tenant_id, principal_id, key)
                ) WITHOUT ROWID
                """,
                "CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at)",
            ]
        ),
        // PostgreSQL's version 4 adds row-level security; SQLite has no equivalent (one node, one
        // process, the application's own tenant filters), so the step only keeps the numbering in step.
        Migration(version: 4, name: "row_level_security", statements: ["SELECT 1"]),
        Migration(
            version: 5,
            name: "users_memberships_refresh_tokens",
            statements: [
                """
                CREATE TABLE users (
                    id TEXT PRIMARY KEY,
                    email TEXT NOT NULL,
                    name TEXT NOT NULL,
                    password_hash TEXT NOT NULL,
                    is_platform_admin INTEGER NOT NULL,
                    created_at INTEGER NOT NULL
                )
                """,
                "CREATE UNIQUE INDEX users_email ON users (email)",
                """
                CREATE TABLE memberships (
                    user_id TEXT NOT NULL,
                    tenant_id TEXT NOT NULL,
                    role TEXT NOT NULL,
                    PRIMARY KEY (user_id, tenant_id)
                ) WITHOUT ROWID
                """,
                """
                CREATE TABLE refresh_tokens (
                    id TEXT PRIMARY KEY,
                    family_id TEXT NOT NULL,
                    user_id TEXT NOT NULL,
                    tenant_id TEXT NOT NULL,
                    token_hash TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    replaced_at INTEGER,
                    revoked_at INTEGER
                )
                """,
                "CREATE UNIQUE INDEX refresh_tokens_token_hash ON refresh_tokens (token_hash)",
                "CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id)",
                "CREATE TABLE platform_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
            ]
        ),
        Migration(
            version: 6,
            name: "agent_catalog",
            statements: [
                """
                CREATE TABLE agents (
                    id TEXT PRIMARY KEY,
                    type TEXT NOT NULL,
                    name TEXT NOT NULL,
                    description TEXT NOT NULL,
                    category TEXT NOT NULL,
                    default_config TEXT NOT NULL,
                    content TEXT NOT NULL,
                    activation_code TEXT,
                    rate INTEGER NOT NULL,
                    is_active INTEGER NOT NULL,
                    version INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    deleted_at INTEGER
                )
                """,
                "CREATE UNIQUE INDEX agents_type ON agents (type) WHERE deleted_at IS NULL",
                "CREATE UNIQUE INDEX agents_activation_code ON agents (activation_code) WHERE deleted_at IS NULL",
                """
                CREATE TABLE agent_versions (
                    agent_id TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    snapshot TEXT NOT NULL,
                    PRIMARY KEY (agent_id, version)
                ) WITHOUT ROWID
                """,
            ]
        ),
        Migration(
            version: 7,
            name: "instances_knowledge_bases",
            statements: [
                """
                CREATE TABLE instances (
                    id TEXT PRIMARY KEY,
                    tenant_id TEXT NOT NULL,
                    agent_id TEXT NOT NULL,
                    owner_user_id TEXT NOT NULL,
                    project_id TEXT,
                    name TEXT NOT NULL,
                    user_config TEXT NOT NULL,
                    config TEXT NOT NULL,
                    pipeline_config TEXT NOT NULL,
                    status TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                )
                """,
                "CREATE INDEX instances_tenant_id_id ON instances (tenant_id, id)",
                """
                CREATE TABLE knowledge_bases (
                    id TEXT PRIMARY KEY,
                    tenant_id TEXT NOT NULL,
                    instance_id TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                )
                """,
                "CREATE UNIQUE INDEX knowledge_bases_instance_id ON knowledge_bases (instance_id)",
            ]
        ),
        Migration(
            version: 8,
            name: "knowledge_base_entries",
            statements: [
                """
                CREATE TABLE kb_entries (
                    id TEXT PRIMARY KEY,
                    tenant_id TEXT NOT NULL,
                    instance_id TEXT NOT NULL,
                    content TEXT NOT NULL,
                    data_type TEXT NOT NULL,
                    lang_hint TEXT NOT NULL,
                    status TEXT NOT NULL,
                    failure_reason TEXT,
                    metadata TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                )
                """,
                "CREATE INDEX kb_entries_tenant_id_instance_id_id ON kb_entries (tenant_id, instance_id, id)",
                """
                CREATE VIRTUAL TABLE kb_entries_fts USING fts5(
                    entry_id UNINDEXED, tenant_id UNINDEXED, instance_id UNINDEXED, content,
                    tokenize = 'unicode61 remove_diacritics 2'
                )
                """,
            ]
        ),
        Migration(
            version: 9,
            name: "lock_free_events_quota_counters_search_scope",
            statements: [
                // Events keep their per-tenant counter on SQLite (the single writer orders commits). New: the
                // quota counters, and the search's indexed scope token.
                """
                CREATE TABLE tenant_usage (
                    tenant_id TEXT PRIMARY KEY,
                    instances INTEGER NOT NULL DEFAULT 0,
                    kb_entries INTEGER NOT NULL DEFAULT 0
                )
                """,
                """
                INSERT INTO tenant_usage (tenant_id, instances, kb_entries)
                SELECT t.id, (SELECT count(*) FROM instances i WHERE i.tenant_id = t.id),
                    (SELECT count(*) FROM kb_entries e WHERE e.tenant_id = t.id)
                FROM tenants t
                """,
                // Search narrows by an indexed scope token instead of filtering UNINDEXED columns row by row.
                "DROP TABLE kb_entries_fts",
                """
                CREATE VIRTUAL TABLE kb_entries_fts USING fts5(
                    entry_id UNINDEXED, scope, content,
                    tokenize = 'unicode61 remove_diacritics 2'
                )
                """,
                """
                INSERT INTO kb_entries_fts (entry_id, scope, content)
                SELECT id, 's' || replace(tenant_id, '-', '') || replace(instance_id, '-', '') || ' e' || replace(id, '-', ''),
                    content
                FROM kb_entries WHERE status = 'ready'
                """,
            ]
        ),
        Migration(
            version: 10,
            name: "runs",
            statements: [
                """
                CREATE TABLE runs (
                    id TEXT PRIMARY KEY,
                    tenant_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    arguments TEXT NOT NULL,
                    priority INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    run_at INTEGER NOT NULL,
                    attempt INTEGER NOT NULL,
                    attempt_base INTEGER NOT NULL,
                    max_attempts INTEGER NOT NULL,
                    backoff_strategy TEXT NOT NULL,
                    backoff_base_seconds REAL NOT NULL,
                    backoff_cap_seconds REAL NOT NULL,
                    dedupe_key TEXT,
                    dedupe_until INTEGER,
                    concurrency_key TEXT,
                    concurrency_limit INTEGER NOT NULL,
                    instance_id TEXT,
                    worker_id TEXT,
                    lease_expires_at INTEGER,
                    cancel_requested INTEGER NOT NULL,
                    result TEXT,
                    last_error TEXT,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    finished_at INTEGER
                )
                """,
                // Claims: the tenants with claimable runs (a skip scan), then each one's best runs.
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
                    run_id TEXT NOT NULL,
                    tenant_id TEXT NOT NULL,
                    number INTEGER NOT NULL,
                    worker_id TEXT NOT NULL,
                    started_at INTEGER NOT NULL,
                    ended_at INTEGER,
                    outcome TEXT NOT NULL,
                    error TEXT,
                    PRIMARY KEY (run_id, number)
                )
                """,
            ]
        ),
        Migration(
            version: 11,
            name: "instances_status_reason",
            statements: ["ALTER TABLE instances ADD COLUMN status_reason TEXT"]
        ),
        tasksMigration,
        secretsMigration,
        webhooksMigration,
        commandsMigration,
        eventRetentionMigration,
        gatewayMigration,
        healthMigration,
        inliningMigration,
        Migration.healthRunRetention,
    ]
}
