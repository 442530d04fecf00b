import AgentplaneCore
import Foundation

/// `ETag` and `If-Match`: a resource's version in quotes.
extension APIHandler {
    /// The `ETag` of a tenant: its version in quotes.
    static func etag(_ tenant: Tenant) -> String { "\"\(tenant.version)\"" }

    /// The version an `If-Match` value names (`"3"` or `W/"3"`); 400 for anything else.
    static func version(fromETag etag: String) throws -> Int64 {
        let trimmed = etag.trimmingCharacters(in: .whitespaces)
        let bare = trimmed.hasPrefix("W/") ? String(trimmed.dropFirst(2)) : trimmed
        guard let version = Int64(bare.trimmingCharacters(in: CharacterSet(charactersIn: "\""))) else {
            throw AgentplaneError(
                .badRequest,
                "If-Match must be an ETag this API returned, e.g. \"3\".",
                fieldErrors: [FieldError(pointer: "If-Match", message: "is not an ETag of this API")]
            )
        }
        return version
    }
}
