import AgentplaneStore

/// The PostgreSQL schema, step by step; numbering matches `SQLiteMigrations`.
///
/// Timestamps are TIMESTAMPTZ (microsecond resolution); the two helper functions convert to and from
/// integer microseconds so that values cross the wire exactly. JSON is JSONB.
enum PostgresMigrations {
    static let all: [Migration] = [
        Migration(
            version: 1,
            name: "events_and_api_keys",
            statements: [
                """
                CREATE FUNCTION ap_ts(micros bigint) RETURNS timestamptz
                LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
                AS $$ SELECT 'epoch'::timestamptz + (micros / 1000000) * interval '1 second'
                    + (micros % 1000000) * interval '1 microsecond' $$
                """,
                """
                CREATE FUNCTION ap_micros(ts timestamptz) RETURNS bigint
                LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
                AS $$ SELECT (extract(epoch FROM ts) * 1000000)::bigint $$
                """,
                """
                CREATE TABLE event_sequences (
                    tenant_id uuid PRIMARY KEY,
                    last_sequence bigint NOT NULL
                )
                """,
                """
                CREATE TABLE events (
                    tenant_id uuid NOT NULL,
                    sequence bigint NOT NULL,
                    id text NOT NULL,
                    source text NOT NULL,
                    type text NOT NULL,
                    subject text,
                    time timestamptz NOT NULL,
                    data_content_type text NOT NULL,
                    data jsonb NOT NULL,
                    correlation_id text,
                    causation_id text,
                    request_id text,
                    user_id text,
                    recorded_at timestamptz NOT NULL DEFAULT now(),
                    CONSTRAINT events_tenant_id_sequence PRIMARY KEY (tenant_id, sequence)
                )
                """,
                "CREATE UNIQUE INDEX events_tenant_id_id ON events (tenant_id, id)",
                "CREATE INDEX events_tenant_id_type_sequence ON events (tenant_id, type, sequence)",
                "CREATE INDEX events_tenant_id_subject_sequence ON events (tenant_id, subject, sequence)",
                """
                CREATE TABLE api_keys (
                    id uuid NOT NULL,
                    tenant_id uuid NOT NULL,
                    prefix text NOT NULL,
                    secret_hash text NOT NULL,
                    name text NOT NULL,
                    role text NOT NULL,
                    scopes jsonb NOT NULL,
                    is_bootstrap boolean NOT NULL DEFAULT false,
                    created_at timestamptz NOT NULL,
                    last_used_at timestamptz,
                    expires_at timestamptz,
                    revoked_at timestamptz,
                    CONSTRAINT api_keys_id PRIMARY KEY (id)
                )
                """,
                "CREATE UNIQUE INDEX api_keys_prefix ON api_keys (prefix)",
                "CREATE UNIQUE INDEX api_keys_is_bootstrap ON api_keys (is_bootstrap) WHERE is_bootstrap",
            ]
        ),
        Migration(
            version: 2,
            name: "tenants_service_accounts_audit_log",
            statements: [
                """
                CREATE TABLE tenants (
                    id uuid NOT NULL,
                    slug text NOT NULL,
                    name text NOT NULL,
                    status text NOT NULL,
                    max_instances integer NOT NULL,
                    max_tasks integer NOT NULL,
                    max_kb_entries integer NOT NULL,
                    requests_per_minute integer NOT NULL,
                    version bigint NOT NULL,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL,
                    deleted_at timestamptz,
                    CONSTRAINT tenants_id PRIMARY KEY (id)
                )
                """,
                "CREATE UNIQUE INDEX tenants_slug ON tenants (slug) WHERE deleted_at IS NULL",
                """
                INSERT INTO tenants VALUES ('00000000-0000-0000-0000-000000000000', 'platform', 'Platform', 'active',
                    0, 0, 0, 1000000, 1, 'epoch', 'epoch', NULL)
                """,
                """
                CREATE TABLE service_accounts (
                    id uuid NOT NULL,
                    tenant_id uuid NOT NULL,
                    name text NOT NULL,
                    description text NOT NULL,
                    role text NOT NULL,
                    scopes jsonb NOT NULL,
                    created_at timestamptz NOT NULL,
                    deleted_at timestamptz,
                    CONSTRAINT service_accounts_id PRIMARY KEY (id)
                )
                """,
                """
                CREATE UNIQUE INDEX service_accounts_tenant_id_name ON service_accounts (tenant_id, name)
                WHERE deleted_at IS NULL
                """,
                "ALTER TABLE api_keys ADD COLUMN service_account_id uuid",
                "CREATE INDEX api_keys_service_account_id ON api_keys (service_account_id)",
                """
                CREATE TABLE audit_log (
                    id uuid NOT NULL,
                    tenant_id uuid NOT NULL,
                    occurred_at timestamptz NOT NULL,
                    principal_id text NOT NULL,
                    key_prefix text,
                    operation text NOT NULL,
                    resource_type text NOT NULL,
                    resource_id text,
                    request_id text,
                    client_address text,
                    outcome text NOT NULL,
                    status integer NOT NULL,
                    details jsonb NOT NULL,
                    CONSTRAINT audit_log_id PRIMARY KEY (id)
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
                    tenant_id uuid NOT NULL,
                    principal_id text NOT NULL,
                    key text NOT NULL,
                    fingerprint text NOT NULL,
                    status integer,
                    headers jsonb,
                    body bytea,
                    created_at timestamptz NOT NULL,
                    expires_at timestamptz NOT NULL,
                    CONSTRAINT idempotency_keys_tenant_id_principal_id_key PRIMARY KEY (tenant_id, principal_id, key)
                )
                """,
                "CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at)",
            ]
        ),
        Migration(
            version: 4,
            name: "row_level_security",
            statements: [
                """
                CREATE FUNCTION ap_tenant_visible(tenant uuid) RETURNS boolean
                LANGUAGE sql STABLE PARALLEL SAFE
                AS $$ SELECT coalesce(current_setting('app.tenant_id', true), '') IN ('*', tenant::text) $$
                """,
                "ALTER TABLE tenants ENABLE ROW LEVEL SECURITY",
                "ALTER TABLE tenants FORCE ROW LEVEL SECURITY",
                """
                CREATE POLICY tenants_tenant_isolation ON tenants
                USING (ap_tenant_visible(id)) WITH CHECK (ap_tenant_visible(id))
                """,
                "ALTER TABLE events ENABLE ROW LEVEL SECURITY",
                "ALTER TABLE events FORCE ROW LEVEL SECURITY",
                """
                CREATE POLICY events_tenant_isolation ON events
                USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
                """,
                "ALTER TABLE event_sequences ENABLE ROW LEVEL SECURITY",
                "ALTER TABLE event_sequences FORCE ROW LEVEL SECURITY",
                """
                CREATE POLICY event_sequences_tenant_isolation ON event_sequences
                USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
                """,
                "ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY",
                "ALTER TABLE api_keys FORCE ROW LEVEL SECURITY",
                """
                CREATE POLICY api_keys_tenant_isolation ON api_keys
                USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
                """,
                "ALTER TABLE service_accounts ENABLE ROW LEVEL SECURITY",
                "ALTER TABLE service_accounts FORCE ROW LEVEL SECURITY",
                """
                CREATE POLICY service_accounts_tenant_isolation ON service_accounts
                USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
                """,
                "ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY",
                "ALTER TABLE audit_log FORCE ROW LEVEL SECURITY",
                """
                CREATE POLICY audit_log_tenant_isolation ON audit_log
                USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
                """,
                "ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY",
                "ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY",
                """
                CREATE POLICY idempotency_keys_tenant_isolation ON idempotency_keys
                USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
                """,
            ]
        ),
        Migration(
            version: 5,
            name: "users_memberships_refresh_tokens",
            statements: [
                """
                CREATE TABLE users (
                    id uuid NOT NULL,
                    email text NOT NULL,
                    name text NOT NULL,
                    password_hash text NOT NULL,
                    is_platform_admin boolean NOT NULL,
                    created_at timestamptz NOT NULL,
                    CONSTRAINT users_id PRIMARY KEY (id)
                )
                """,
                "CREATE UNIQUE INDEX users_email ON users (email)",
                """
                CREATE TABLE memberships (
                    user_id uuid NOT NULL,
                    tenant_id uuid NOT NULL,
                    role text NOT NULL,
                    CONSTRAINT memberships_user_id_tenant_id PRIMARY KEY (user_id, tenant_id)
                )
                """,
                """
                CREATE TABLE refresh_tokens (
                    id uuid NOT NULL,
                    family_id uuid NOT NULL,
                    user_id uuid NOT NULL,
                    tenant_id uuid NOT NULL,
                    token_hash text NOT NULL,
                    created_at timestamptz NOT NULL,
                    expires_at timestamptz NOT NULL,
                    replaced_at timestamptz,
                    revoked_at timestamptz,
                    CONSTRAINT refresh_tokens_id PRIMARY KEY (id)
                )
                """,
                "CREATE UNIQUE INDEX refresh_tokens_token_hash ON refresh_tokens (token_hash)",
                "CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id)",
                "CREATE TABLE platform_secrets (name text PRIMARY KEY, value text NOT NULL)",
                "ALTER TABLE memberships ENABLE ROW LEVEL SECURITY",
                "ALTER TABLE memberships FORCE ROW LEVEL SECURITY",
                """
                CREATE POLICY memberships_tenant_isolation ON memberships
                USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
                """,
                "ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY",
                "ALTER TABLE refresh_tokens FORCE ROW LEVEL SECURITY",
                """
                CREATE POLICY refresh_tokens_tenant_isolation ON refresh_tokens
                USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
                """,
            ]
        ),
        Migration(
            version: 6,
            name: "agent_catalog",
            statements: [
                """
                CREATE TABLE agents (
                    id uuid NOT NULL,
                    type text NOT NULL,
                    name text NOT NULL,
                    description text NOT NULL,
                    category text NOT NULL,
                    default_config jsonb NOT NULL,
                    content jsonb NOT NULL,
                    activation_code text,
                    rate bigint NOT NULL,
                    is_active boolean NOT NULL,
                    version bigint NOT NULL,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL,
                    deleted_at timestamptz,
                    CONSTRAINT agents_id PRIMARY KEY (id)
                )
                """,
                "CREATE UNIQUE INDEX agents_type ON agents (type) WHERE deleted_at IS NULL",
                "CREATE UNIQUE INDEX agents_activation_code ON agents (activation_code) WHERE deleted_at IS NULL",
                """
                CREATE TABLE agent_versions (
                    agent_id uuid NOT NULL,
                    version bigint NOT NULL,
                    snapshot jsonb NOT NULL,
                    CONSTRAINT agent_versions_agent_id_version PRIMARY KEY (agent_id, version)
                )
                """,
            ]
        ),
        Migration(
            version: 7,
            name: "instances_knowledge_bases",
            statements: [
                """
                CREATE TABLE instances (
                    id uuid NOT NULL,
                    tenant_id uuid NOT NULL,
                    agent_id uuid NOT NULL,
                    owner_user_id text NOT NULL,
                    project_id text,
                    name text NOT NULL,
                    user_config jsonb NOT NULL,
                    config jsonb NOT NULL,
                    pipeline_config jsonb NOT NULL,
                    status text NOT NULL,
                    version bigint NOT NULL,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL,
                    CONSTRAINT instances_id PRIMARY KEY (id)
                )
                """,
                "CREATE INDEX instances_tenant_id_id ON instances (tenant_id, id)",
                """
                CREATE TABLE knowledge_bases (
                    id uuid NOT NULL,
                    tenant_id uuid NOT NULL,
                    instance_id uuid NOT NULL,
                    created_at timestamptz NOT NULL,
                    CONSTRAINT knowledge_bases_id PRIMARY KEY (id)
                )
                """,
                "CREATE UNIQUE INDEX knowledge_bases_instance_id ON knowledge_bases (instance_id)",
                "ALTER TABLE instances ENABLE ROW LEVEL SECURITY",
                "ALTER TABLE instances FORCE ROW LEVEL SECURITY",
                """
                CREATE POLICY instances_tenant_isolation ON instances
                USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
                """,
                "ALTER TABLE knowledge_bases ENABLE ROW LEVEL SECURITY",
                "ALTER TABLE knowledge_bases FORCE ROW LEVEL SECURITY",
                """
                CREATE POLICY knowledge_bases_tenant_isolation ON knowledge_bases
                USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
                """,
            ]
        ),
        Migration(
            version: 8,
            name: "knowledge_base_entries",
            statements: [
                """
                CREATE TABLE kb_entries (
                    id uuid NOT NULL,
                    tenant_id uuid NOT NULL,
                    instance_id uuid NOT NULL,
                    content text NOT NULL,
                    data_type text NOT NULL,
                    lang_hint text NOT NULL,
                    status text NOT NULL,
                    failure_reason text,
                    metadata jsonb NOT NULL,
                    version bigint NOT NULL,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL,
                    search_vector tsvector,
                    CONSTRAINT kb_entries_id PRIMARY KEY (id)
                )
                """,
                "CREATE INDEX kb_entries_tenant_id_instance_id_id ON kb_entries (tenant_id, instance_id, id)",
                "CREATE INDEX kb_entries_search_vector ON kb_entries USING gin (search_vector)",
                "ALTER TABLE kb_entries ENABLE ROW LEVEL SECURITY",
                "ALTER TABLE kb_entries FORCE ROW LEVEL SECURITY",
                """
                CREATE POLICY kb_entries_tenant_isolation ON kb_entries
                USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
                """,
            ]
        ),
        Migration(
            version: 9,
            name: "lock_free_events_quota_counters_search_scope",
            statements: [
                // Events are ordered by the writing transaction's id, then an ordinal from a sequence (which
                // never blocks); readers serve only transactions older than every one still running.
                "CREATE SEQUENCE event_ordinals AS bigint",
                "ALTER TABLE events ADD COLUMN txid xid8, ADD COLUMN ordinal bigint",
                // Events written before this step keep their order, before every later transaction.
                "UPDATE events SET txid = '0'::xid8, ordinal = sequence",
                """
                ALTER TABLE events ALTER COLUMN txid SET NOT NULL, ALTER COLUMN ordinal SET NOT NULL,
                    ALTER COLUMN txid SET DEFAULT pg_current_xact_id(),
                    ALTER COLUMN ordinal SET DEFAULT nextval('event_ordinals')
                """,
                // Drops the (tenant_id, sequence) key and the two filter indexes built on it.
                "ALTER TABLE events DROP COLUMN sequence",
                "ALTER TABLE events ADD CONSTRAINT events_tenant_id_txid_ordinal PRIMARY KEY (tenant_id, txid, ordinal)",
                "CREATE INDEX events_tenant_id_type_txid_ordinal ON events (tenant_id, type, txid, ordinal)",
                "CREATE INDEX events_tenant_id_subject_txid_ordinal ON events (tenant_id, subject, txid, ordinal)",
                "DROP TABLE event_sequences",
                // Quota counters, kept exact by a conditional increment in the creating transaction.
                """
                CREATE TABLE tenant_usage (
                    tenant_id uuid NOT NULL,
                    instances bigint NOT NULL DEFAULT 0,
                    kb_entries bigint NOT NULL DEFAULT 0,
                    CONSTRAINT tenant_usage_tenant_id PRIMARY KEY (tenant_id)
                )
                """,
                """
                INSERT INTO tenant_usage (tenant_id, instances, kb_entries)
                SELECT t.id, (SELECT count(*) FROM instances i WHERE i.tenant_id = t.id),
                    (SELECT count(*) FROM kb_entries e WHERE e.tenant_id = t.id)
                FROM tenants t
                """,
                // (The search scope is SQLite's: PostgreSQL's (tenant_id, instance_id, id) index already narrows a
                // search to the instance.)
                "ALTER TABLE tenant_usage ENABLE ROW LEVEL SECURITY",
                "ALTER TABLE tenant_usage FORCE ROW LEVEL SECURITY",
                """
                CREATE POLICY tenant_usage_tenant_isolation ON tenant_usage
                USING (ap_tenant_visible(tenant_id)) WITH CHECK (ap_tenant_visible(tenant_id))
                """,
            ]
        ),
        runsMigration,
        Migration(
            version: 11,
            name: "instances_status_reason",
            statements: ["ALTER TABLE instances ADD COLUMN status_reason text"]
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
