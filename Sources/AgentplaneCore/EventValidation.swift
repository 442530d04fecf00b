/// The rules an event from a client must satisfy before it is appended.
public enum EventValidation {
    /// Type prefixes the platform itself emits; clients may not publish under them.
    public static let reservedTypePrefixes = [
        "agent.", "api_key.", "audit.", "command.", "instance.", "knowledge_base.", "run.", "service_account.",
        "task.", "tenant.", "user.", "webhook.",
    ]
    /// Longest accepted event type.
    public static let maximumTypeLength = 128
    /// Longest accepted subject, id or source, in Unicode code points (as JSON Schema counts).
    public static let maximumTextLength = 256

    /// Field errors for an event type (empty when valid).
    public static func typeErrors(_ type: String, pointer: String = "/type") -> [FieldError] {
        if type.isEmpty || type.utf8.count > maximumTypeLength {
            return [FieldError(pointer: pointer, message: "must be 1 to \(maximumTypeLength) characters")]
        }
        let segments = type.split(separator: ".", omittingEmptySubsequences: false)
        let valid = segments.allSatisfy { segment in
            guard let first = segment.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
            return segment.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
            }
        }
        if !valid {
            return [
                FieldError(
                    pointer: pointer,
                    message: "must be dot-separated segments of lowercase letters, digits and _ (e.g. `order.shipped`)"
                )
            ]
        }
        return []
    }

    /// Field errors for a free-text identifier such as a subject or client-supplied id.
    public static func textErrors(_ text: String, pointer: String) -> [FieldError] {
        if text.isEmpty || text.unicodeScalars.count > maximumTextLength {
            return [FieldError(pointer: pointer, message: "must be 1 to \(maximumTextLength) characters")]
        }
        if text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return [FieldError(pointer: pointer, message: "must not contain control characters")]
        }
        return []
    }

    /// Field errors for a JSON payload: strings may not contain NUL, which no store can keep faithfully.
    public static func dataErrors(_ value: JSONValue, pointer: String = "/data") -> [FieldError] {
        switch value {
        case .string(let text):
            return text.unicodeScalars.contains("\u{0}")
                ? [FieldError(pointer: pointer, message: "strings must not contain the NUL character")] : []
        case .array(let elements):
            return elements.enumerated().flatMap { dataErrors($0.element, pointer: "\(pointer)/\($0.offset)") }
        case .object(let members):
            return members.sorted { $0.key < $1.key }.flatMap { key, member in
                let escaped = key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
                let keyErrors =
                    key.unicodeScalars.contains("\u{0}")
                    ? [FieldError(pointer: pointer, message: "keys must not contain the NUL character")] : []
                return keyErrors + dataErrors(member, pointer: "\(pointer)/\(escaped)")
            }
        case .null, .bool, .int, .double:
            return []
        }
    }

    /// Validates an event a client publishes; throws a validation or reserved-type error.
    public static func validatePublished(_ event: NewEvent) throws {
        var errors = typeErrors(event.type)
        errors += textErrors(event.id, pointer: "/id")
        if let subject = event.subject { errors += textErrors(subject, pointer: "/subject") }
        if let source = event.source { errors += textErrors(source, pointer: "/source") }
        if let correlation = event.context.correlationID {
            errors += textErrors(correlation, pointer: "/correlationid")
        }
        if let causation = event.context.causationID { errors += textErrors(causation, pointer: "/causationid") }
        errors += dataErrors(event.data)
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        if let prefix = reservedTypePrefixes.first(where: { event.type.hasPrefix($0) }) {
            throw AgentplaneError(
                .reservedEventType,
                "Event types starting with `\(prefix)` are emitted by the platform only.",
                fieldErrors: [FieldError(pointer: "/type", message: "uses the reserved prefix `\(prefix)`")]
            )
        }
    }

    /// Validates a reader's query; throws a `BAD_REQUEST` naming each bad parameter.
    public static func validate(_ query: EventQuery) throws {
        try validate(query, afterErrors: [])
    }

    /// Builds a reader's query from its parameters (`after`: a position the API handed out, nil for the
    /// beginning); throws one validation error naming every bad parameter.
    public static func query(after: String?, limit: Int, type: String?, subject: String?) throws -> EventQuery {
        var position = EventPosition.start
        var afterErrors: [FieldError] = []
        if let after {
            if let parsed = EventPosition(after) {
                position = parsed
            } else {
                afterErrors.append(
                    FieldError(
                        pointer: "after",
                        message:
                            "must be a position the API returned (\(EventPosition.textLength) lowercase hex digits)"
                    )
                )
            }
        }
        let query = EventQuery(after: position, limit: limit, type: type, subject: subject)
        try validate(query, afterErrors: afterErrors)
        return query
    }

    private static func validate(_ query: EventQuery, afterErrors: [FieldError]) throws {
        var errors = afterErrors
        if !(1...EventQuery.maximumLimit).contains(query.limit) {
            errors.append(FieldError(pointer: "limit", message: "must be between 1 and \(EventQuery.maximumLimit)"))
        }
        if let type = query.type { errors += typeErrors(type, pointer: "type") }
        if let subject = query.subject { errors += textErrors(subject, pointer: "subject") }
        if !errors.isEmpty { throw AgentplaneError.badQuery(errors) }
    }
}
