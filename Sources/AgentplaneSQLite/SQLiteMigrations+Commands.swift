import AgentplaneStore

extension SQLiteMigrations {
    /// Migration 15: named consumers and commands.
    static let commandsMigration = Migration(
        version: 15,
        name: "consumers_and_commands",
        statements: [
            """
            CREATE TABLE consumers (
                tenant_id TEXT NOT NULL,
                name TEXT NOT NULL,
                event_types TEXT NOT NULL,
                subject TEXT,
                format TEXT NOT NULL,
                committed_offset TEXT NOT NULL,
                version INTEGER NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                acked_at INTEGER,
                PRIMARY KEY (tenant_id, name)
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE commands (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL,
                action TEXT NOT NULL,
                data TEXT NOT NULL,
                request_id TEXT NOT NULL,
                correlation_id TEXT NOT NULL,
                client_id TEXT NOT NULL,
                user_id TEXT,
                status TEXT NOT NULL,
                result TEXT,
                error TEXT,
                run_id TEXT NOT NULL,
                attempts INTEGER NOT NULL,
                principal TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                finished_at INTEGER
            )
            """,
            "CREATE UNIQUE INDEX commands_tenant_id_request_id ON commands (tenant_id, request_id)",
            "CREATE INDEX commands_tenant_id_id ON commands (tenant_id, id)",
        ]
    )
}
