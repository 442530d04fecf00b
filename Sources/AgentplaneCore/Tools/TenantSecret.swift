import Foundation

/// A tenant's write-only value (a model API key, an MCP server's token): stored encrypted, never returned.
public struct TenantSecret: Sendable, Hashable {
    /// Id (UUIDv7).
    public var id: UUID
    /// Owner.
    public var tenantID: TenantID
    /// As pipelines write it in `${secrets.NAME}`.
    public var name: String
    /// The sealed value (AES-256-GCM, base64), bound to the tenant and the name.
    public var ciphertext: String
    /// Bumped by each new value.
    public var version: Int64
    /// Created.
    public var createdAt: Timestamp
    /// Last given a value.
    public var updatedAt: Timestamp

    /// Creates a secret value.
    public init(
        id: UUID, tenantID: TenantID, name: String, ciphertext: String, version: Int64, createdAt: Timestamp,
        updatedAt: Timestamp
    ) {
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.ciphertext = ciphertext
        self.version = version
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The longest value accepted.
    public static let maximumValueBytes = 65_536

    /// Field errors of a name: 1–64 characters of `[A-Za-z0-9_]`, not starting with a digit.
    public static func nameErrors(_ name: String, pointer: String = "/name") -> [FieldError] {
        let bytes = Array(name.utf8)
        let valid =
            (1...64).contains(bytes.count)
            && bytes.allSatisfy {
                ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F
            }
            && !(bytes[0] >= 0x30 && bytes[0] <= 0x39)
        return valid
            ? []
            : [
                FieldError(
                    pointer: pointer,
                    message: "must be 1 to 64 characters of A-Z, a-z, 0-9 and _, not starting with a digit")
            ]
    }

    /// Field errors of a value: 1 to `maximumValueBytes` bytes, no NUL.
    public static func valueErrors(_ value: String) -> [FieldError] {
        guard (1...maximumValueBytes).contains(value.utf8.count), !value.contains("\u{0}") else {
            return [FieldError(pointer: "/value", message: "must be 1 to \(maximumValueBytes) bytes without NUL")]
        }
        return []
    }
}
