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
        )
    ]
}
