import AgentplaneCore
import Foundation

/// One signed POST to a receiver, as the use cases build it.
public struct WebhookRequest: Sendable {
    /// Where.
    public var url: URL
    /// The headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`, content type, user agent).
    public var headers: [(name: String, value: String)]
    /// The body.
    public var body: [UInt8]
    /// How long it may take.
    public var timeout: Duration

    /// Creates a request.
    public init(url: URL, headers: [(name: String, value: String)], body: [UInt8], timeout: Duration) {
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// What a receiver answered (or why nothing was sent or nothing came back).
public struct WebhookResponse: Sendable, Hashable {
    /// The answer's status, when one came.
    public var statusCode: Int?
    /// Milliseconds from sending to the answer or the failure.
    public var latencyMilliseconds: Int
    /// The first bytes of the answer's body.
    public var snippet: String?
    /// Why there is no answer (a transport error, a timeout, the SSRF refusal).
    public var error: String?
    /// Whether the URL was refused by the outbound policy (nothing was sent; a retry will not help).
    public var refused: Bool

    /// Creates a response.
    public init(
        statusCode: Int?, latencyMilliseconds: Int, snippet: String? = nil, error: String? = nil, refused: Bool = false
    ) {
        self.statusCode = statusCode
        self.latencyMilliseconds = latencyMilliseconds
        self.snippet = snippet
        self.error = error
        self.refused = refused
    }
}

/// The server's settings for webhooks: the delivery policy, and the sender (the engine's outbound HTTP
/// client, which checks each URL against the SSRF policy again at delivery time).
public struct WebhookSettings: Sendable {
    /// Attempts, backoff, timeout, auto-disable, rotation grace.
    public var policy: WebhookPolicy
    /// Sends one request.
    public var send: @Sendable (WebhookRequest) async -> WebhookResponse

    /// Creates the settings (the default sender sends nothing: the composition root wires the real one).
    public init(
        policy: WebhookPolicy = WebhookPolicy(),
        send: @escaping @Sendable (WebhookRequest) async -> WebhookResponse = { _ in
            WebhookResponse(statusCode: nil, latencyMilliseconds: 0, error: "no webhook sender is configured")
        }
    ) {
        self.policy = policy
        self.send = send
    }

    /// The user agent of every delivery.
    public static let userAgent = "Agentplane-Webhooks/1"
}
