import Crypto
import Foundation

/// Hex SHA-256, the one way secrets (API keys, refresh tokens) and request fingerprints are stored.
enum Digest {
    /// Lowercase hex SHA-256 of `text`.
    static func sha256Hex(_ text: String) -> String {
        hex(SHA256.hash(data: Data(text.utf8)))
    }

    /// Lowercase hex of a digest.
    static func hex(_ digest: some Sequence<UInt8>) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
