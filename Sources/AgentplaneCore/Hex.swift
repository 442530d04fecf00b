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
}
