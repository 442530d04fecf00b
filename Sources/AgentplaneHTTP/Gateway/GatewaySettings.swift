/// The gateway's limits (`agentplane serve --gateway-…`, docs/agent-runtime.md).
package struct GatewaySettings: Sendable {
    /// Largest request body a gateway call may send upstream (or as a run's input); larger: 413.
    package var maximumRequestBytes: Int
    /// Largest response body relayed from an `http` instance; a longer stream is cut.
    package var maximumResponseBytes: Int
    /// Hosts, addresses or CIDR networks the gateway may reach although they are not public (as
    /// `--allow-outbound-host`).
    package var allowedOutboundHosts: [String]
    /// Whether the caller's own `X-Forwarded-For/-Proto/-Host` are believed (a trusted proxy in front sets them):
    /// then the chain is extended and the scheme and host passed on; otherwise they are replaced by what this
    /// node saw, so a caller cannot tell an agent service it came from elsewhere.
    package var trustForwardedHeaders: Bool

    /// Default request limit: 10 MiB.
    package static let defaultMaximumRequestBytes = 10 << 20
    /// Default response limit: 50 MiB.
    package static let defaultMaximumResponseBytes = 50 << 20

    /// Creates settings.
    package init(
        maximumRequestBytes: Int = defaultMaximumRequestBytes,
        maximumResponseBytes: Int = defaultMaximumResponseBytes,
        allowedOutboundHosts: [String] = [],
        trustForwardedHeaders: Bool = false
    ) {
        self.maximumRequestBytes = maximumRequestBytes
        self.maximumResponseBytes = maximumResponseBytes
        self.allowedOutboundHosts = allowedOutboundHosts
        self.trustForwardedHeaders = trustForwardedHeaders
    }
}
