import AgentplaneStore

extension PostgresMigrations {
    /// Migration 14: webhook subscriptions, their deliveries and delivery attempts.
    static let webhooksMigration = Migration(
        version: 14,
        name: "webhooks",
        statements: []
    )
}
