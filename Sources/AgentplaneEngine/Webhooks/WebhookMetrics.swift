import Metrics

/// The webhook metrics (docs/operations.md, docs/webhooks.md): the latency of each attempt, the failed
/// attempts by reason, and the deliveries that went dead.
enum WebhookMetrics {
    /// One attempt that got an answer or failed in transport, with its latency.
    static func attempted(seconds: Double, succeeded: Bool) {
        Metrics.Timer(
            label: "agentplane_webhook_delivery_duration_seconds",
            dimensions: [("outcome", succeeded ? "succeeded" : "failed")]
        ).recordSeconds(seconds)
    }

    /// A failed attempt: `status` (non-2xx), `transport` (no answer, timeout) or `refused` (SSRF policy).
    static func failed(reason: String) {
        Counter(label: "agentplane_webhook_failures_total", dimensions: [("reason", reason)]).increment()
    }

    /// A delivery that exhausted its attempts.
    static func dead() {
        Counter(label: "agentplane_webhook_dead_deliveries_total").increment()
    }

    /// Creates the counters at zero, so the first failure already counts as an increase.
    static func prepare() {
        for reason in ["status", "transport", "refused"] {
            _ = Counter(label: "agentplane_webhook_failures_total", dimensions: [("reason", reason)])
        }
        _ = Counter(label: "agentplane_webhook_dead_deliveries_total")
    }
}
