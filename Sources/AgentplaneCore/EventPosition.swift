/// Where an event sits in its tenant's log: an opaque, resumable, totally ordered position.
///
/// The text form is 32 lowercase hex digits, so comparing two positions as strings orders them as
/// the log does. Each backend fills the two halves its own way (PostgreSQL: the writing
/// transaction's id and an ordinal within it; SQLite: a per-tenant counter); clients never look
/// inside. `start` (all zeros) is before every event.
public struct EventPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The coarse half (PostgreSQL: the writing transaction's `xid8`).
    public var major: UInt64
    /// The fine half (PostgreSQL: an ordinal that increases within a transaction).
    public var minor: UInt64

    /// Before every event: reading after it reads from the beginning.
    public static let start = EventPosition(major: 0, minor: 0)
    /// Number of characters of the text form.
    public static let textLength = 32

    /// Creates a position from its two halves.
    public init(major: UInt64, minor: UInt64) {
        self.major = major
        self.minor = minor
    }

    /// Parses the text form; nil unless it is exactly 32 lowercase hex digits.
    public init?(_ text: String) {
        let utf8 = Array(text.utf8)
        guard utf8.count == Self.textLength else { return nil }
        guard let major = Self.parseHex(utf8[0..<16]), let minor = Self.parseHex(utf8[16..<32]) else { return nil }
        self.init(major: major, minor: minor)
    }

    /// The text form: 32 lowercase hex digits.
    public var description: String {
        var bytes = [UInt8](repeating: 0, count: Self.textLength)
        Self.writeHex(major, into: &bytes, at: 0)
        Self.writeHex(minor, into: &bytes, at: 16)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Log order: by the coarse half, then the fine half.
    public static func < (lhs: EventPosition, rhs: EventPosition) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }

    private static let digits = Array("0123456789abcdef".utf8)

    private static func writeHex(_ value: UInt64, into bytes: inout [UInt8], at offset: Int) {
        for index in 0..<16 {
            bytes[offset + index] = digits[Int((value >> UInt64(60 - 4 * index)) & 0xF)]
        }
    }

    private static func parseHex(_ bytes: ArraySlice<UInt8>) -> UInt64? {
        var value: UInt64 = 0
        for byte in bytes {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return value
    }
}
