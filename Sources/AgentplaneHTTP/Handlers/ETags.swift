import AgentplaneAPI
import AgentplaneCore
import Foundation

extension APIHandler {
    /// The strong ETag of a version, e.g. `"3"`.
    static func etag(_ version: Int64) -> String { "\"\(version)\"" }

    /// The version an `If-Match` ETag names; 400 naming the header for anything this API did not return.
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
