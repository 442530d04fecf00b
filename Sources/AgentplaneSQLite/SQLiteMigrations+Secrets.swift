import AgentplaneStore

extension SQLiteMigrations {
    /// Migration 13: tenants' secrets (encrypted values) and MCP servers.
    static let secretsMigration = Migration(
        version: 13,
        name: "secrets_and_mcp_servers",
        statements: [
            """
            CREATE TABLE secrets (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL,
                name TEXT NOT NULL,
                ciphertext TEXT NOT NULL,
                version INTEGER NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            )
            """,
            "CREATE UNIQUE INDEX secrets_tenant_id_name ON secrets (tenant_id, name)",
            """
            CREATE TABLE mcp_servers (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL,
                name TEXT NOT NULL,
                transport TEXT NOT NULL,
                command TEXT,
                args TEXT NOT NULL,
                env TEXT NOT NULL,
                url TEXT,
                headers TEXT NOT NULL,
                version INTEGER NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            )
            """,
            "CREATE UNIQUE INDEX mcp_servers_tenant_id_name ON mcp_servers (tenant_id, name)",
        ]
    )
}
