/// Why a schedule was refused: the field it names (a JSON pointer) and a message that says where and what.
///
/// Messages name the position inside the expression: cron errors name the field (counted from 1, as written)
/// and the character offset (counted from 0), RRULE errors the rule part (e.g. `BYSETPOS`) and the offset.
public struct ScheduleError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The JSON pointer of the expression's field.
    public static let expressionPointer = "/schedule_expr"
    /// The JSON pointer of the time zone's field.
    public static let timeZonePointer = "/timezone"
    /// The JSON pointer of the kind's field.
    public static let kindPointer = "/schedule_kind"

    /// The field error to report, e.g. `/schedule_expr`: "field 3 (day-of-month) at offset 8: 32 is out of …".
    public var fieldError: FieldError
    /// The character offset (from 0) in the expression the message points at, when it points at one.
    public var offset: Int?

    /// Creates an error.
    public init(pointer: String, message: String, offset: Int? = nil) {
        self.fieldError = FieldError(pointer: pointer, message: message)
        self.offset = offset
    }

    /// The JSON pointer of the offending field.
    public var pointer: String { fieldError.pointer }
    /// What is wrong, naming the position.
    public var message: String { fieldError.message }

    /// The same failure as the catalogue's `VALIDATION_FAILED` error.
    public var validationError: AgentplaneError { .validation([fieldError]) }

    /// `pointer: message`.
    public var description: String { "\(pointer): \(message)" }

    /// An error in the expression at a character offset.
    static func expression(_ message: String, at offset: Int?) -> ScheduleError {
        ScheduleError(pointer: expressionPointer, message: message, offset: offset)
    }
}
