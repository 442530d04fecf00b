import AgentplaneCore
import Foundation
import OpenAPIRuntime

/// RFC 3339 dates with microseconds, the resolution the stores keep (the runtime's default drops
/// fractions).
struct MicrosecondDateTranscoder: DateTranscoder {
    func encode(_ date: Date) throws -> String {
        Timestamp(date).rfc3339
    }

    func decode(_ text: String) throws -> Date {
        guard let timestamp = Timestamp(rfc3339: text) else {
            // Thrown as a validation error: a DecodingError here would carry no coding path and read as
            // malformed JSON.
            throw AgentplaneError.validation([
                FieldError(
                    pointer: "",
                    message: "'\(text.prefix(64))' is not an RFC 3339 date-time such as 2026-01-31T12:00:00Z")
            ])
        }
        return timestamp.date
    }
}
