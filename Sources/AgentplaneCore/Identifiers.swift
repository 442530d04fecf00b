import Foundation

/// The isolation boundary every tenant-owned row carries.
public struct TenantID: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The underlying UUID.
    public var rawValue: UUID

    /// Wraps a UUID.
    public init(_ rawValue: UUID) { self.rawValue = rawValue }

    /// Parses the canonical UUID text form; nil when it is not one.
    public init?(uuidString: String) {
        guard let uuid = UUID(canonical: uuidString) else { return nil }
        self.rawValue = uuid
    }

    /// The platform's own tenant: platform-level facts (catalog, credentials) are recorded here.
    public static let platform = TenantID(UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))

    /// Lowercase canonical text, as stored and served.
    public var description: String { Hex.uuid(rawValue) }
}

/// Time-ordered UUIDs (RFC 9562 version 7): sortable by creation, unique without coordination.
public enum UUIDv7 {
    /// A new UUIDv7 for the instant `now`.
    public static func make(at now: Timestamp = .now()) -> UUID {
        let millis = UInt64(max(0, now.microsecondsSinceEpoch / 1000))
        // The 16 random bytes in one call of the C library's CSPRNG (arc4random_buf: one getrandom
        // call in glibc 2.36); drawing them byte by byte through `SystemRandomNumberGenerator` made ten
        // getrandom calls per id, 14 % of a drained run's CPU (runs-bench under perf).
        var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &uuid) { bytes in
            arc4random_buf(bytes.baseAddress!, 16)
            for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: millis >> (8 * (5 - UInt64(index)))) }
            bytes[6] = (bytes[6] & 0x0F) | 0x70
            bytes[8] = (bytes[8] & 0x3F) | 0x80
        }
        return UUID(uuid: uuid)
    }
}

extension UUID {
    /// Lowercase canonical text, the form every API response and store row uses.
    public var lowercasedString: String { Hex.uuid(self) }
}
