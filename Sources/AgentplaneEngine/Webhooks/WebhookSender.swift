import AgentplaneApp
import AgentplaneCore
import AgentplaneTracing
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Sends webhook deliveries: the URL is checked against the outbound (SSRF) policy at every attempt, resolved
/// addresses included, so a host that resolves to a private address by now (DNS rebinding after the check at
/// create time) is refused; then one POST through the process's outbound client (no redirects followed).
public struct WebhookSender: Sendable {
    let outbound: OutboundPolicy
    let client: HTTPClient

    /// Creates the sender (the process's outbound client by default).
    public init(outbound: OutboundPolicy, client: HTTPClient = BuiltInToolbox.outboundClient) {
        self.outbound = outbound
        self.client = client
    }

    /// Sends one request; never throws: a refusal, a transport error or a timeout is in the response.
    public func send(_ request: WebhookRequest) async -> WebhookResponse {
        do {
            try await outbound.check(request.url)
        } catch {
            WebhookMetrics.failed(reason: "refused")
            return WebhookResponse(
                statusCode: nil, latencyMilliseconds: 0, error: "refused: \(error.description)", refused: true)
        }
        var outgoing = HTTPClientRequest(url: request.url.absoluteString)
        outgoing.method = .POST
        for header in request.headers { outgoing.headers.add(name: header.name, value: header.value) }
        outgoing.body = .bytes(ByteBuffer(bytes: request.body))
        let started = ContinuousClock.now
        do {
            let timeout = TimeAmount.milliseconds(
                max(
                    request.timeout.components.seconds * 1000 + request.timeout.components.attoseconds
                        / 1_000_000_000_000_000, 1))
            let response = try await OutboundTracing.withClientSpan("webhook.deliver", outgoing) {
                try await client.execute($0, timeout: timeout)
            }
            var snippet = try await Self.prefix(of: response.body, bytes: WebhookAttempt.snippetBytes)
            snippet = WebhookAttempt.snippet(snippet)
            let latency = Self.milliseconds(ContinuousClock.now - started)
            let code = Int(response.status.code)
            WebhookMetrics.attempted(seconds: Double(latency) / 1000, succeeded: (200..<300).contains(code))
            if !(200..<300).contains(code) { WebhookMetrics.failed(reason: "status") }
            return WebhookResponse(statusCode: code, latencyMilliseconds: latency, snippet: snippet)
        } catch {
            let latency = Self.milliseconds(ContinuousClock.now - started)
            WebhookMetrics.attempted(seconds: Double(latency) / 1000, succeeded: false)
            WebhookMetrics.failed(reason: "transport")
            return WebhookResponse(
                statusCode: nil, latencyMilliseconds: latency,
                error: "no answer from \(request.url.host ?? "?"): \(error)")
        }
    }

    /// The first `bytes` of a body as text; the rest is read and dropped (the connection stays reusable).
    static func prefix(of body: HTTPClientResponse.Body, bytes: Int) async throws -> String {
        var kept = ByteBuffer()
        var seen = 0
        for try await var chunk in body {
            seen += chunk.readableBytes
            if kept.readableBytes < bytes,
                let slice = chunk.readSlice(length: min(chunk.readableBytes, bytes - kept.readableBytes))
            {
                var slice = slice
                kept.writeBuffer(&slice)
            }
            if seen > 1 << 20 { break }  // a receiver streaming without end does not hold the worker
        }
        return String(decoding: kept.readableBytesView, as: UTF8.self)
    }

    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }
}
