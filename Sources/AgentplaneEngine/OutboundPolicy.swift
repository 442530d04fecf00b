import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Why an outbound URL was refused.
public struct OutboundRefusal: Error, CustomStringConvertible, Sendable {
    /// Why, naming the host and address.
    public var description: String
}

/// Which hosts the platform may call on behalf of a tenant (SSRF guard): a host must resolve only to
/// public addresses, unless the operator allow-listed it (`--allow-outbound-host`, e.g. a local agent
/// service at `127.0.0.1`). Loopback, private, link-local (the cloud metadata address
/// 169.254.169.254 among them), carrier-grade NAT, unspecified, multicast and reserved addresses are
/// refused, in IPv4 and IPv6 (IPv4-mapped addresses as their IPv4 address). The check resolves the
/// name itself; a name that resolves differently a moment later (DNS rebinding) is a known limit.
public struct OutboundPolicy: Sendable {
    /// Host names or address literals the operator allows even when not public (lowercased).
    public var allowedHosts: Set<String>
    /// Networks (`10.0.0.0/8`, `fd00::/8`) whose addresses the operator allows even when not public.
    public var allowedNetworks: [Network]

    /// An address prefix.
    public struct Network: Sendable, Hashable {
        /// The address bytes (4 or 16).
        public var address: [UInt8]
        /// The prefix length in bits.
        public var prefix: Int

        /// Whether `candidate` lies in this network.
        public func contains(_ candidate: [UInt8]) -> Bool {
            guard candidate.count == address.count else { return false }
            var bits = prefix
            for index in address.indices where bits > 0 {
                let take = min(bits, 8)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - take))
                if candidate[index] & mask != address[index] & mask { return false }
                bits -= take
            }
            return true
        }
    }

    /// Creates a policy: each entry is a host name, an address, or a network in CIDR notation.
    public init(allowedHosts: some Sequence<String> = []) {
        var hosts = Set<String>()
        var networks: [Network] = []
        for entry in allowedHosts.map({ $0.lowercased() }) {
            if let network = Self.network(entry) { networks.append(network) } else { hosts.insert(entry) }
        }
        self.allowedHosts = hosts
        self.allowedNetworks = networks
    }

    /// Parses `a.b.c.d/n` or `x:y::/n`; nil for anything else.
    public static func network(_ text: String) -> Network? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let prefix = Int(parts[1]) else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, String(parts[0]), &v4) == 1, (0...32).contains(prefix) {
            return Network(address: withUnsafeBytes(of: &v4) { Array($0) }, prefix: prefix)
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, String(parts[0]), &v6) == 1, (0...128).contains(prefix) {
            return Network(address: withUnsafeBytes(of: &v6) { Array($0) }, prefix: prefix)
        }
        return nil
    }

    /// Checks `url`'s host; throws the refusal naming the address that is not allowed.
    public func check(_ url: URL) async throws(OutboundRefusal) {
        guard let host = url.host?.lowercased(), !host.isEmpty else {
            throw OutboundRefusal(description: "the URL has no host")
        }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if allowedHosts.contains(host) || allowedHosts.contains(bare) { return }
        let addresses = await Self.resolve(bare)
        guard !addresses.isEmpty else { throw OutboundRefusal(description: "\(bare) does not resolve") }
        for address in addresses
        where !Self.isPublic(address) && !allowedNetworks.contains(where: { $0.contains(address) }) {
            throw OutboundRefusal(
                description: "\(bare) resolves to \(Self.text(address)), which is not a public address "
                    + "(an operator may allow the host with --allow-outbound-host)")
        }
    }

    /// Whether an address (4 or 16 bytes) is public.
    public static func isPublic(_ address: [UInt8]) -> Bool {
        if address.count == 4 { return isPublicIPv4(address) }
        guard address.count == 16 else { return false }
        if address[0..<10].allSatisfy({ $0 == 0 }) && address[10] == 0xFF && address[11] == 0xFF {
            return isPublicIPv4(Array(address[12..<16]))  // IPv4-mapped
        }
        if address.allSatisfy({ $0 == 0 }) { return false }  // ::
        if address[0..<15].allSatisfy({ $0 == 0 }) && address[15] == 1 { return false }  // ::1
        if address[0] & 0xFE == 0xFC { return false }  // fc00::/7 unique local
        if address[0] == 0xFE && address[1] & 0xC0 == 0x80 { return false }  // fe80::/10 link-local
        if address[0] == 0xFF { return false }  // multicast
        if address[0] == 0x20 && address[1] == 0x01 && address[2] == 0x0D && address[3] == 0xB8 { return false }
        if address[0..<12].allSatisfy({ $0 == 0 }) { return false }  // IPv4-compatible (deprecated)
        return true
    }

    static func isPublicIPv4(_ a: [UInt8]) -> Bool {
        switch (a[0], a[1]) {
        case (0, _), (10, _), (127, _): false
        case (100, 64...127): false  // carrier-grade NAT
        case (169, 254): false  // link-local, cloud metadata
        case (172, 16...31), (192, 168): false
        case (192, 0) where a[2] == 0 || a[2] == 2: false  // IETF, TEST-NET-1
        case (198, 18...19): false  // benchmarking
        case (198, 51) where a[2] == 100, (203, 0) where a[2] == 113: false  // TEST-NET-2, -3
        case (224...255, _): false  // multicast, reserved, broadcast
        default: true
        }
    }

    static func text(_ address: [UInt8]) -> String {
        if address.count == 4 { return address.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: address.count, by: 2).map {
            String(UInt16(address[$0]) << 8 | UInt16(address[$0 + 1]), radix: 16)
        }.joined(separator: ":")
    }

    /// The addresses `host` resolves to (getaddrinfo, off the cooperative pool).
    static func resolve(_ host: String) async -> [[UInt8]] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var hints = addrinfo()
                hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
                var list: UnsafeMutablePointer<addrinfo>?
                guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else {
                    continuation.resume(returning: [])
                    return
                }
                defer { freeaddrinfo(first) }
                var addresses: [[UInt8]] = []
                var cursor: UnsafeMutablePointer<addrinfo>? = first
                while let info = cursor {
                    if let raw = info.pointee.ai_addr {
                        if info.pointee.ai_family == AF_INET {
                            raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                                var address = pointer.pointee.sin_addr
                                addresses.append(withUnsafeBytes(of: &address) { Array($0) })
                            }
                        } else if info.pointee.ai_family == AF_INET6 {
                            raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                                var address = pointer.pointee.sin6_addr
                                addresses.append(withUnsafeBytes(of: &address) { Array($0) })
                            }
                        }
                    }
                    cursor = info.pointee.ai_next
                }
                continuation.resume(returning: addresses)
            }
        }
    }
}
