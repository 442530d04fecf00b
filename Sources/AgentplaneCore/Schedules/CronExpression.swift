/// A parsed cron expression: 5 fields (minute hour day-of-month month day-of-week) or 6 with a leading
/// seconds field, or a macro. Its fire times follow Debian/Vixie cron as the `cronsim` package computes them
/// (see `CronExpression+Iteration.swift`).
struct CronExpression: Sendable, Hashable {
    /// One of the six fields, in the order of a 6-field expression.
    enum Field: Int, CaseIterable, Sendable {
        case second, minute, hour, dayOfMonth, month, dayOfWeek

        var name: String {
            switch self {
            case .second: "second"
            case .minute: "minute"
            case .hour: "hour"
            case .dayOfMonth: "day-of-month"
            case .month: "month"
            case .dayOfWeek: "day-of-week"
            }
        }

        /// The values the field accepts; day-of-week 7 is Sunday, like 0.
        var range: ClosedRange<Int> {
            switch self {
            case .second, .minute: 0...59
            case .hour: 0...23
            case .dayOfMonth: 1...31
            case .month: 1...12
            case .dayOfWeek: 0...7
            }
        }

        /// The names the field accepts (case-insensitive), with their values.
        var names: [String] {
            switch self {
            case .month: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
            case .dayOfWeek: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
            default: []
            }
        }

        /// The value of the first name: month names count from 1, day names from 0 (Sunday).
        var firstNameValue: Int { self == .month ? 1 : 0 }
    }

    /// The macros and the 5-field expressions they stand for (Vixie cron's table).
    static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    /// Allowed values of each field as bit sets (bit n set: value n allowed), indexed by `Field.rawValue`.
    /// Day-of-week 7 is folded into 0.
    var allowed: [UInt64]
    /// Vixie cron's day rule: when the day-of-month or the day-of-week field starts with `*`, a day must match
    /// both (the `*` one matches anything); when both are restricted, a day matches if either matches.
    var daysMustMatchBoth: Bool
    /// Debian cron's DST handling for jobs at fixed local times (5 fields, neither minute nor hour starting
    /// with `*`): the search walks the local wall clock, a skipped time fires right after the gap, and a
    /// repeated time fires at its first occurrence. Otherwise the search walks real (UTC) time.
    var walksWallClock: Bool

    func allows(_ field: Field, _ value: Int) -> Bool {
        allowed[field.rawValue] & (1 << UInt64(value)) != 0
    }

    /// The only allowed value of a field, when there is exactly one.
    func single(_ field: Field) -> Int? {
        let bits = allowed[field.rawValue]
        return bits.nonzeroBitCount == 1 ? bits.trailingZeroBitCount : nil
    }

    /// Whether a calendar day matches the day-of-month, month-independent part of the expression.
    func matchesDay(days: Int64) -> Bool {
        let date = LocalCalendar.date(days: days)
        let dayOfMonth = allows(.dayOfMonth, date.day)
        // Monday = 0 … Sunday = 6 → cron's Sunday = 0 … Saturday = 6.
        let dayOfWeek = allows(.dayOfWeek, (LocalCalendar.weekdayFromMonday(days: days) + 1) % 7)
        return daysMustMatchBoth ? dayOfMonth && dayOfWeek : dayOfMonth || dayOfWeek
    }
}
