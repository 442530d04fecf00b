import AgentplaneCore
import Foundation

/// Which headers cross the gateway, each way (RFC 9110 §7.6.1): hop-by-hop headers never do; the caller's
/// credential and the platform's own routing headers stay here; the upstream learns who called through
/// `X-Forwarded-*` (the caller's own values only when a trusted proxy is declared in front) and `X-Agentplane-*`.
/// Trace context (`traceparent`, `tracestate`) passes as sent.
enum GatewayHeaders {
    /// Headers of one connection, never forwarded.
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
        "trailer", "transfer-encoding", "upgrade",
    ]
    /// Headers of the platform's own request, never forwarded upstream: the credential, the target and length
    /// (the client sets its own), the acting tenant, and what the gateway sets itself.
    static let platformOnly: Set<String> = [
        "authorization", "host", "content-length", "x-tenant-id", "x-org-id", "x-agentplane-tenant",
        "x-agentplane-instance", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-for", "expect",
    ]

    /// What the gateway knows about the call it forwards.
    struct Forwarding: Sendable {
        var clientAddress: String?
        var host: String?
        var tenant: TenantID
        var instance: UUID
        /// Whether the incoming `X-Forwarded-*` were set by a trusted proxy (`--gateway-trust-forwarded-headers`).
        var trustIncoming = false
    }

    /// The headers sent upstream for `incoming`.
    static func upstream(_ incoming: [(name: String, value: String)], _ forwarding: Forwarding)
        -> [(name: String, value: String)]
    {
        let dropped = hopByHop.union(platformOnly).union(connectionTokens(incoming))
        var headers = incoming.filter { !dropped.contains($0.name.lowercased()) }
        // The caller's own forwarding headers, when a trusted proxy set them; else none (replaced below).
        let believed = forwarding.trustIncoming ? incoming : []
        func incomingValue(_ name: String) -> String? { believed.first { $0.name.lowercased() == name }?.value }
        let earlierHops = believed.filter { $0.name.lowercased() == "x-forwarded-for" }.map(\.value)
        let chain = (earlierHops + [forwarding.clientAddress].compactMap { $0 }).joined(separator: ", ")
        if !chain.isEmpty { headers.append(("X-Forwarded-For", chain)) }
        headers.append(("X-Forwarded-Proto", incomingValue("x-forwarded-proto") ?? "http"))
        if let host = incomingValue("x-forwarded-host") ?? forwarding.host {
            headers.append(("X-Forwarded-Host", host))
        }
        headers.append(("X-Agentplane-Tenant", forwarding.tenant.description))
        headers.append(("X-Agentplane-Instance", forwarding.instance.lowercasedString))
        return headers
    }

    /// The upstream response's headers sent to the caller (the length is set by the relay itself).
    static func downstream(_ upstream: [(name: String, value: String)]) -> [(name: String, value: String)] {
        let dropped = hopByHop.union(connectionTokens(upstream)).union(["content-length"])
        return upstream.filter { !dropped.contains($0.name.lowercased()) }
    }

    /// Header names a `Connection` header lists (they are hop-by-hop too).
    static func connectionTokens(_ headers: [(name: String, value: String)]) -> Set<String> {
        Set(
            headers.filter { $0.name.lowercased() == "connection" }
                .flatMap { $0.value.split(separator: ",") }
                .map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
    }
}
