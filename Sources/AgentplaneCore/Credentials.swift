/// What a principal may do on the platform.
public enum Role: String, Sendable, CaseIterable, Codable {
    case platformAdmin = "platform_admin"
    case admin
    case member
    case viewer
}

/// The parts of an API key `ap_<prefix>_<secret>`: the prefix finds the row, the secret proves possession.
public struct APIKeyToken: Sendable, Hashable {
    /// Eight lowercase letters or digits; stored in clear and shown in listings.
    public var prefix: String
    /// At least 32 letters or digits; never stored, only its hash.
    public var secret: String

    /// Characters a generated secret is drawn from.
    static let secretAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    static let prefixAlphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")

    /// Parses `ap_<prefix>_<secret>`; nil for anything else.
    public init?(parsing text: String) {
        let parts = text.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "ap" else { return nil }
        let prefix = parts[1]
        let secret = parts[2]
        guard prefix.count == 8, prefix.allSatisfy({ Self.prefixAlphabet.contains($0) }) else { return nil }
        guard (32...128).contains(secret.count), secret.allSatisfy({ Self.secretAlphabet.contains($0) }) else {
            return nil
        }
        self.prefix = String(prefix)
        self.secret = String(secret)
    }

    /// A new random key.
    public static func generate() -> APIKeyToken {
        var generator = SystemRandomNumberGenerator()
        let prefix = String((0..<8).map { _ in prefixAlphabet.randomElement(using: &generator)! })
        let secret = String((0..<40).map { _ in secretAlphabet.randomElement(using: &generator)! })
        return APIKeyToken(parsing: "ap_\(prefix)_\(secret)")!
    }

    /// The full key as the client sends it.
    public var text: String { "ap_\(prefix)_\(secret)" }
}
