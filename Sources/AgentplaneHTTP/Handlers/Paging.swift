import AgentplaneCore

/// Page-size and cursor rules shared by the list operations.
enum Paging {
    /// The page size asked for (default 100), checked against 1…1000.
    static func limit(_ requested: Int?) throws -> Int {
        let limit = requested ?? 100
        guard (1...1000).contains(limit) else {
            throw AgentplaneError.badQuery([FieldError(pointer: "limit", message: "must be between 1 and 1000")])
        }
        return limit
    }

    /// The answer to a cursor this API did not hand out.
    static var badCursor: AgentplaneError {
        AgentplaneError(
            .badRequest,
            "The cursor is not one this API returned.",
            fieldErrors: [FieldError(pointer: "cursor", message: "is not a cursor of this list")]
        )
    }
}
