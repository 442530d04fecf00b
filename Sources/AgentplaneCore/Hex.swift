import Foundation

/// Lowercase hexadecimal text, without per-byte string formatting (it runs on every request).
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// The lowercase hex of `bytes`.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The canonical lowercase text of a UUID (8-4-4-4-12).
    static func uuid(_ uuid: UUID) -> String {
        withUnsafeBytes(of: uuid.uuid) { raw in
            var out = [UInt8](repeating: 0x2D, count: 36)
            var position = 0
            for (index, byte) in raw.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 { position += 1 }
                out[position] = digits[Int(byte >> 4)]
                out[position + 1] = digits[Int(byte & 0x0F)]
                position += 2
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// The UUID of canonical text (8-4-4-4-12 hex digits, either case), parsed without `sscanf`.
    static func parseUUID(_ text: String) -> UUID? {
        var utf8 = text.utf8
        return utf8.withContiguousStorageIfAvailable(parseUUID)
            ?? {
                utf8 = String(text).utf8
                return Array(utf8).withUnsafeBufferPointer(parseUUID)
            }()
    }

    private static func parseUUID(_ bytes: UnsafeBufferPointer<UInt8>) -> UUID? {
        guard bytes.count == 36 else { return nil }
        var out: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let parsed = withUnsafeMutableBytes(of: &out) { raw -> Bool in
            var position = 0
            for index in 0..<16 {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    guard bytes[position] == 0x2D else { return false }
                    position += 1
                }
                guard let high = value(bytes[position]), let low = value(bytes[position + 1]) else { return false }
                raw[index] = high << 4 | low
                position += 2
            }
            return true
        }
        return parsed ? UUID(uuid: out) : nil
    }

    private static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case 0x30...0x39: digit - 0x30
        case 0x61...0x66: digit - 0x61 + 10
        case 0x41...0x46: digit - 0x41 + 10
        default: nil
        }
    }
}

extension UUID {
    /// Parses canonical UUID text (either case) like `UUID(canonical:)`, without its `sscanf`.
    public init?(canonical text: String) {
        guard let uuid = Hex.parseUUID(text) else { return nil }
        self = uuid
    }
}
