import AgentplaneCore
import Crypto
import Foundation

/// Seals and opens secret values with the operator's key: AES-256-GCM, a fresh nonce per value, the tenant
/// and the name as authenticated data (a sealed value copied to another row or tenant does not open).
public struct SecretBox: Sendable {
    private let key: SymmetricKey
    /// A non-secret fingerprint of the key (nodes sharing a database must share the key; they compare this).
    public let fingerprint: String

    /// The key from its 32 bytes.
    public init(keyBytes: [UInt8]) throws(SecretBoxError) {
        guard keyBytes.count == 32 else { throw SecretBoxError("the secrets key must be 32 bytes") }
        key = SymmetricKey(data: keyBytes)
        let mac = HMAC<SHA256>.authenticationCode(for: Data("agentplane-secrets-key-check-v1".utf8), using: key)
        fingerprint = Hex.encode(Array(mac).prefix(16))
    }

    /// A new random key (the embedded default writes one to the data directory).
    public static func generateKeyBytes() -> [UInt8] {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    }

    /// The sealed form of `value` (base64 of nonce, ciphertext and tag).
    public func seal(_ value: String, tenant: TenantID, name: String) throws -> String {
        let box = try AES.GCM.seal(Data(value.utf8), using: key, authenticating: Self.context(tenant, name))
        guard let combined = box.combined else { throw SecretBoxError("sealing failed") }
        return combined.base64EncodedString()
    }

    /// The plain value; throws when the sealed value was not made with this key for this tenant and name.
    public func open(_ sealed: String, tenant: TenantID, name: String) throws -> String {
        guard let data = Data(base64Encoded: sealed) else { throw SecretBoxError("a stored secret is not base64") }
        let box = try AES.GCM.SealedBox(combined: data)
        let plain = try AES.GCM.open(box, using: key, authenticating: Self.context(tenant, name))
        return String(decoding: plain, as: UTF8.self)
    }

    private static func context(_ tenant: TenantID, _ name: String) -> Data {
        Data("\(tenant.description)/\(name)".utf8)
    }
}

/// Why the secrets key cannot be used.
public struct SecretBoxError: Error, CustomStringConvertible, Sendable {
    /// What is wrong (never the key).
    public var description: String

    /// Creates the error.
    public init(_ description: String) { self.description = description }
}
