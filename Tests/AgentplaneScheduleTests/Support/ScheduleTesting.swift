import AgentplaneCore
import Foundation

/// Helpers that keep the tables readable: instants in and out as RFC 3339 local times with their offset.
enum ScheduleTesting {
    struct BadInstant: Error {
        var text: String
    }

    static func instant(_ text: String) throws -> Timestamp {
        guard let timestamp = Timestamp(rfc3339: text) else { throw BadInstant(text: text) }
        return timestamp
    }

    /// `2026-03-29T03:00:00+02:00`: the local time in the zone with its offset (`Z` in UTC).
    static func local(_ timestamp: Timestamp, _ zone: String) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: zone)!
        return formatter.string(from: timestamp.date)
    }

    /// The next `count` fire times after `after` (default: just before the start) as local times.
    static func fireTimes(
        _ kind: ScheduleKind, _ expression: String, zone: String, start: String, after: String? = nil, count: Int
    ) throws -> [String] {
        let startInstant = try instant(start)
        let schedule = try Schedule(kind: kind, expression: expression, timeZone: zone, start: startInstant)
        let afterInstant =
            try after.map(instant)
            ?? Timestamp(microsecondsSinceEpoch: startInstant.microsecondsSinceEpoch - 1)
        return schedule.nextFireTimes(after: afterInstant, count: count).map { local($0, zone) }
    }

    /// The error a schedule is refused with, or nil when it parses.
    static func refusal(
        _ kind: ScheduleKind, _ expression: String, zone: String = "UTC", start: String = "2026-01-01T09:00:00Z"
    ) throws -> ScheduleError? {
        let startInstant = try instant(start)
        do {
            _ = try Schedule(kind: kind, expression: expression, timeZone: zone, start: startInstant)
            return nil
        } catch {
            return error
        }
    }
}
