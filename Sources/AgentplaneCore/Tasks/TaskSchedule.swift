import Foundation

/// What fires a task, parsed from its `schedule_kind`, `schedule_expr` and `timezone`.
public enum TaskSchedule: Sendable {
    /// `cron`, `rrule` or `once`: fire times.
    case timed(Schedule)
    /// `event`: the tenant's events that match.
    case event
    /// `condition`: checked every so many seconds.
    case condition(everySeconds: Int)

    /// Parses a task's schedule; the error names the field and the position.
    public init(_ task: AgentTask) throws(ScheduleError) {
        try self.init(
            kind: task.scheduleKind, expression: task.scheduleExpr, timeZone: task.timezone, start: task.scheduleStart)
    }

    /// Parses a schedule; the error names the field and the position.
    public init(kind: String, expression: String?, timeZone: String, start: Timestamp) throws(ScheduleError) {
        guard let known = TaskScheduleKind(rawValue: kind) else {
            let kinds = TaskScheduleKind.allCases.map(\.rawValue).joined(separator: ", ")
            throw ScheduleError(pointer: ScheduleError.kindPointer, message: "must be one of \(kinds)")
        }
        guard let expression, !expression.isEmpty else {
            throw ScheduleError(pointer: ScheduleError.expressionPointer, message: "is required for \(kind) tasks")
        }
        switch try TaskTrigger.parse(kind: known.rawValue, expression: expression, timeZone: timeZone, start: start) {
        case .timed(let schedule): self = .timed(schedule)
        case .event: self = .event
        case .condition(let condition): self = .condition(everySeconds: condition.everySeconds)
        }
    }
}
