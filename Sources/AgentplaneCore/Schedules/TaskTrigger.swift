/// Every `schedule_kind` a task may have (DESIGN §5): the timed kinds of `ScheduleKind`, `event` and `condition`.
public enum TaskScheduleKind: String, Sendable, Hashable, CaseIterable {
    /// Vixie cron (see `Schedule`).
    case cron
    /// An RFC 5545 RRULE (see `Schedule`).
    case rrule
    /// One RFC 3339 instant (see `Schedule`).
    case once
    /// Runs for each published event that matches (see `EventTrigger`).
    case event
    /// Runs when a polled source's result turns a condition true (see `ConditionTrigger`).
    case condition

    /// The timed kind, for `cron`, `rrule` and `once`.
    public var scheduleKind: ScheduleKind? { ScheduleKind(rawValue: rawValue) }
}

/// What starts a task's runs: fire times, matching events, or a condition over a polled source.
public enum TaskTrigger: Sendable, Hashable {
    /// Fires at a schedule's times.
    case timed(Schedule)
    /// Fires for matching events.
    case event(EventTrigger)
    /// Fires when a condition over a polled source turns true.
    case condition(ConditionTrigger)

    /// The longest `schedule_expr` accepted for `event` and `condition` (a timed one: `Schedule`'s limit).
    public static let maximumExpressionLength = 10_000

    /// The kind.
    public var kind: TaskScheduleKind {
        switch self {
        case .timed(let schedule): TaskScheduleKind(rawValue: schedule.kind.rawValue)!
        case .event: .event
        case .condition: .condition
        }
    }

    /// Parses a task's `schedule_kind`, `schedule_expr` and `timezone`; the error names the field
    /// (`/schedule_kind`, `/schedule_expr`, `/timezone`). The time zone is checked for every kind.
    public static func parse(kind: String, expression: String?, timeZone: String, start: Timestamp)
        throws(ScheduleError) -> TaskTrigger
    {
        guard let known = TaskScheduleKind(rawValue: kind) else {
            let kinds = TaskScheduleKind.allCases.map(\.rawValue).joined(separator: ", ")
            throw ScheduleError(pointer: ScheduleError.kindPointer, message: "must be one of \(kinds)")
        }
        guard let expression, !expression.isEmpty else {
            try checkTimeZone(timeZone, start: start)
            throw .expression("is required for schedule_kind \(kind)", at: nil)
        }
        switch known {
        case .cron, .rrule, .once:
            return .timed(try Schedule(kind: known.rawValue, expression: expression, timeZone: timeZone, start: start))
        case .event, .condition:
            try checkTimeZone(timeZone, start: start)
            guard expression.count <= maximumExpressionLength else {
                throw .expression("is longer than \(maximumExpressionLength) characters", at: nil)
            }
            if known == .event { return .event(try EventTrigger.parse(expression)) }
            return .condition(try ConditionTrigger.parse(expression))
        }
    }

    /// Refuses a name that is not an IANA zone, by the one rule `Schedule` applies (it checks the zone first;
    /// the fixed, valid `once` instant leaves nothing else to refuse).
    private static func checkTimeZone(_ timeZone: String, start: Timestamp) throws(ScheduleError) {
        _ = try Schedule(kind: .once, expression: "2000-01-01T00:00:00Z", timeZone: timeZone, start: start)
    }
}

extension TaskTrigger {
    /// A `schedule_expr` written as a JSON object with only the given keys; the error gives the byte offset
    /// of a syntax error, or names an unknown key.
    static func jsonObject(_ expression: String, keys: [String]) throws(ScheduleError) -> [String: JSONValue] {
        let bytes = Array(expression.utf8)
        if let failure = JSONSyntax.firstError(in: bytes) {
            throw .expression("is not valid JSON: \(failure.reason) at offset \(failure.offset)", at: failure.offset)
        }
        guard case .object(let members) = JSONValue(parsing: bytes) else {
            throw .expression("must be a JSON object with \(keys.joined(separator: ", "))", at: nil)
        }
        if let unknown = members.keys.sorted().first(where: { !keys.contains($0) }) {
            throw .expression("unknown key '\(unknown)' (use \(keys.joined(separator: ", ")))", at: nil)
        }
        return members
    }
}
