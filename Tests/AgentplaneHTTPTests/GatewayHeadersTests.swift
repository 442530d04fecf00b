import AgentplaneCore
import Foundation
import Testing

@testable import AgentplaneHTTP

/// What crosses the gateway, each way, as a table.
@Suite struct GatewayHeadersTests {
    static let forwarding = GatewayHeaders.Forwarding(
        clientAddress: "203.0.113.7", host: "platform.example.com", tenant: TenantID(UUID()), instance: UUID())

    static func names(_ headers: [(name: String, value: String)]) -> [String] { headers.map { $0.name.lowercased() } }

    @Test(arguments: [
        ("Authorization", "Bearer ap_x", false), ("Connection", "X-Hop", false), ("X-Hop", "1", false),
        ("Keep-Alive", "timeout=5", false), ("Transfer-Encoding", "chunked", false), ("TE", "trailers", false),
        ("Upgrade", "websocket", false), ("Proxy-Authorization", "Basic x", false), ("Host", "a", false),
        ("Content-Length", "3", false), ("X-Tenant-ID", "t", false), ("Expect", "100-continue", false),
        ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", true), ("tracestate", "a=1", true),
        ("Content-Type", "application/json", true), ("Idempotency-Key", "k", true),
        ("Accept", "text/event-stream", true),
    ])
    func upstreamHeaders(name: String, value: String, forwarded: Bool) {
        let incoming = [("Connection", "X-Hop"), (name, value)]
        let sent = GatewayHeaders.upstream(incoming, Self.forwarding)
        #expect(sent.contains { $0.name == name && $0.value == value } == forwarded, "\(name)")
    }

    static let incomingForwarding = [
        ("X-Forwarded-For", "198.51.100.1"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "forged.example"),
        ("X-Agentplane-Tenant", "forged"), ("X-Agentplane-Instance", "forged"),
    ]

    static func values(_ sent: [(name: String, value: String)], _ name: String) -> [String] {
        sent.filter { $0.name.lowercased() == name }.map(\.value)
    }

    @Test func theUpstreamLearnsWhoCalledAndForgedValuesAreReplaced() {
        let sent = GatewayHeaders.upstream(Self.incomingForwarding, Self.forwarding)
        // No trusted proxy declared: the caller's forwarding headers are replaced by what this node saw.
        #expect(Self.values(sent, "x-forwarded-for") == ["203.0.113.7"])
        #expect(Self.values(sent, "x-forwarded-proto") == ["http"])
        #expect(Self.values(sent, "x-forwarded-host") == ["platform.example.com"])
        #expect(Self.values(sent, "x-agentplane-tenant") == [Self.forwarding.tenant.description])
        #expect(Self.values(sent, "x-agentplane-instance") == [Self.forwarding.instance.lowercasedString])
    }

    @Test func behindATrustedProxyTheChainIsExtendedAndSchemeAndHostPassOn() {
        var trusted = Self.forwarding
        trusted.trustIncoming = true
        let sent = GatewayHeaders.upstream(Self.incomingForwarding, trusted)
        #expect(Self.values(sent, "x-forwarded-for") == ["198.51.100.1, 203.0.113.7"])
        #expect(Self.values(sent, "x-forwarded-proto") == ["https"])
        #expect(Self.values(sent, "x-forwarded-host") == ["forged.example"])
        // The platform's own headers are never the caller's to set.
        #expect(Self.values(sent, "x-agentplane-tenant") == [Self.forwarding.tenant.description])
    }

    @Test func hopByHopHeadersOfTheAnswerStayBehind() {
        let answer = GatewayHeaders.downstream([
            ("Content-Type", "text/event-stream"), ("Transfer-Encoding", "chunked"), ("Connection", "close, X-Hop"),
            ("X-Hop", "1"), ("Content-Length", "12"), ("Set-Cookie", "a=1"),
        ])
        #expect(Self.names(answer) == ["content-type", "set-cookie"])
    }

    @Test(
        arguments: [
            ("http://a.example/v1", "/chat", "x=1", "http://a.example/v1/chat?x=1"),
            ("http://a.example/v1/", "", nil, "http://a.example/v1"),
            ("http://a.example", "", nil, "http://a.example/"),
            ("http://a.example:8080/", "/a%20b/c", "q=%2F", "http://a.example:8080/a%20b/c?q=%2F"),
            ("http://a.example/run?key=1", "/x", nil, "http://a.example/run/x?key=1"),
        ] as [(String, String, String?, String)])
    func upstreamURLs(endpoint: String, rest: String, query: String?, expected: String) throws {
        let url = GatewayRoute<AgentplaneRequestContext>.upstreamURL(
            try #require(URL(string: endpoint)), rest: rest, query: query)
        #expect(url?.absoluteString == expected)
    }
}
