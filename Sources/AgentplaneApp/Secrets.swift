import AgentplaneCore
import Crypto
import Foundation

/// Hex SHA-256, the one way secrets (API keys, refresh tokens) and request fingerprints are stored.
public enum SecretDigest {
    /// Lowercase hex SHA-256 of `text`.
    public static func sha256Hex(_ text: String) -> String {
        hex(SHA256.hash(data: Data(text.utf8)))
    }

    /// The stored hash of an API key.
    public static func hash(_ token: APIKeyToken) -> String { sha256Hex(token.text) }

    /// Lowercase hex of bytes.
    public static func hex(_ bytes: some Sequence<UInt8>) -> String { Hex.encode(bytes) }
}

/// Password hashing (bcrypt in production), off the cooperative pool.
public protocol PasswordHashing: Sendable {
    /// The hash of `password`.
    func hash(_ password: String) async throws -> String
    /// Whether `password` matches `hash`; without a hash it spends the same time and answers false.
    func verify(_ password: String, hash: String?) async throws -> Bool
}
