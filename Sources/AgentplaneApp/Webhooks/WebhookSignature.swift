import Crypto
import Foundation

/// Standard Webhooks signing (https://www.standardwebhooks.com): a secret `whsec_<base64 of 32 random bytes>`,
/// and per message `v1,<base64 of HMAC-SHA256(secret bytes, "<webhook-id>.<webhook-timestamp>.<body>")>`.
/// Several signatures (during a rotation's grace period) are sent space-separated in one header.
public enum WebhookSignature {
    /// The prefix of a secret's text.
    public static let secretPrefix = "whsec_"

    /// A new secret: `whsec_` and the base64 of 32 random bytes.
    public static func generateSecret() -> String {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return secretPrefix + bytes.base64EncodedString()
    }

    /// The key bytes of a secret (the base64 after `whsec_`); nil when it is not one.
    public static func keyBytes(_ secret: String) -> Data? {
        guard secret.hasPrefix(secretPrefix) else { return nil }
        return Data(base64Encoded: String(secret.dropFirst(secretPrefix.count)))
    }

    /// `v1,<signature>` of one message with one secret; nil when the secret is not one.
    public static func sign(secret: String, id: String, timestamp: Int64, body: [UInt8]) -> String? {
        guard let key = keyBytes(secret) else { return nil }
        var content = Data("\(id).\(timestamp).".utf8)
        content.append(contentsOf: body)
        let mac = HMAC<SHA256>.authenticationCode(for: content, using: SymmetricKey(data: key))
        return "v1," + Data(mac).base64EncodedString()
    }

    /// The `webhook-signature` header: one `v1,` signature per secret, space-separated.
    public static func header(secrets: [String], id: String, timestamp: Int64, body: [UInt8]) -> String {
        secrets.compactMap { sign(secret: $0, id: id, timestamp: timestamp, body: body) }.joined(separator: " ")
    }
}
