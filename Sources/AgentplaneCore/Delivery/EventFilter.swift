/// Which events a subscriber receives (an SSE stream, a WebSocket subscription, a webhook, a named
/// consumer): any of `types` (patterns as for event tasks: `*` stands for any run of characters, so
/// `instance.*` matches `instance.created` and `instance.status_changed`), and, when given, exactly this
/// `subject`. No patterns: every type.
public struct EventFilter: Sendable, Hashable {
    /// The most patterns one filter holds.
    public static let maximumPatterns = 50

    /// Type patterns; empty matches every type.
    public let types: [String]
    /// Exact subject, when given.
    public let subject: String?

    /// Every event.
    public static let all = EventFilter(checkedTypes: [], subject: nil)

    private init(checkedTypes: [String], subject: String?) {
        self.types = checkedTypes
        self.subject = subject
    }

    /// Checks the patterns and the subject; errors name `pointer` (`/event_types/2`, or a query parameter
    /// name such as `type`) and say what is wrong.
    public init(
        types: [String], subject: String?, typesPointer: String = "/event_types", subjectPointer: String = "/subject"
    ) throws(AgentplaneError) {
        let errors = Self.problems(
            types: types, subject: subject, typesPointer: typesPointer, subjectPointer: subjectPointer)
        guard errors.isEmpty else { throw .validation(errors) }
        self.init(checkedTypes: Array(Set(types)).sorted(), subject: subject)
    }

    /// What is wrong with these patterns and subject (empty: nothing).
    public static func problems(
        types: [String], subject: String?, typesPointer: String = "/event_types", subjectPointer: String = "/subject"
    ) -> [FieldError] {
        var errors: [FieldError] = []
        if types.count > Self.maximumPatterns {
            errors.append(
                FieldError(pointer: typesPointer, message: "must hold at most \(Self.maximumPatterns) patterns"))
        }
        for (index, pattern) in types.enumerated() {
            if let (_, message) = EventTrigger.patternProblem(pattern) {
                errors.append(FieldError(pointer: "\(typesPointer)/\(index)", message: "pattern \(message)"))
            }
        }
        if let subject, subject.isEmpty || subject.utf8.count > 500 {
            errors.append(FieldError(pointer: subjectPointer, message: "must be 1 to 500 characters"))
        }
        return errors
    }

    /// Whether `event` passes.
    public func matches(_ event: Event) -> Bool {
        matches(type: event.type, subject: event.subject)
    }

    /// Whether an event of this type and subject passes.
    public func matches(type: String, subject: String?) -> Bool {
        if let wanted = self.subject, wanted != subject { return false }
        return types.isEmpty || types.contains { EventTrigger.pattern($0, matches: type) }
    }

    /// The exact type when the filter names one type without a wildcard (a store may filter on it).
    public var exactType: String? {
        guard types.count == 1, !types[0].contains("*") else { return nil }
        return types[0]
    }
}
