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
        )
    ]
}
