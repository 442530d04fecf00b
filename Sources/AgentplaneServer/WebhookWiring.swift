import AgentplaneApp
import AgentplaneEngine

/// The webhooks side of the composition root: the delivery policy and the sender the use cases get.
enum WebhookWiring {
    /// Gives the use cases the configured policy and a sender over the process's outbound client, checking each
    /// URL against the same outbound policy as `http.request` (`AGENTPLANE_OUTBOUND_ALLOW`).
    static func wire(_ useCases: inout UseCases, configuration: ServerConfiguration) {
        let sender = WebhookSender(outbound: OutboundPolicy(allowedHosts: configuration.engine.allowedOutboundHosts))
        useCases.webhookSettings = WebhookSettings(policy: configuration.engine.webhooks) { await sender.send($0) }
    }
}
