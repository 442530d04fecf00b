import Foundation

/// How a task's fire times are written (DESIGN §5; `event` and `condition` tasks have no fire times).
public enum ScheduleKind: String, Sendable, Hashable, CaseIterable {
    /// Vixie cron: 5 fields, or 6 with a leading second field, or a macro such as `@daily`.
    case cron
    /// An RFC 5545 RRULE such as `FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=17`, expanded from the schedule's start.
    case rrule
    /// One RFC 3339 instant.
    case once
}

/// A parsed schedule in an IANA time zone: a pure value that answers when it fires next.
///
/// DST, per kind (docs/schedules.md has examples):
/// - `cron` follows Debian/Vixie cron as `cronsim` computes it. A job at fixed local times (5 fields, minute
///   and hour not starting with `*`) walks the local clock: a time that DST skips fires right after the gap
///   (`30 2 * * *` fires at 03:00 on a 02:00→03:00 night), a repeated time fires once, at its first occurrence.
///   Other jobs walk real time: `*/15 * * * *` fires every 15 real minutes through both transitions, so a
///   skipped time does not fire and a repeated one fires at both occurrences.
/// - `rrule` follows python-dateutil (RFC 5545 §3.3.5): occurrences are local wall times; one that DST skips
///   keeps the offset from before the gap (02:30 in a 02:00→03:00 gap fires at 03:30 after the gap), a
///   repeated one means its first occurrence. Two occurrences that land on one instant fire once.
/// - `once` is an instant; its zone only matters for display.
public struct Schedule: Sendable, Hashable {
    /// The most fire times one call returns.
    public static let maximumCount = 10_000
    /// The longest expression accepted.
    public static let maximumExpressionLength = 1000

    /// The kind.
    public let kind: ScheduleKind
    /// The expression as given.
    public let expression: String
    /// The IANA time zone identifier as given.
    public let timeZoneIdentifier: String
    /// The start: an RRULE's DTSTART (its local wall time in the zone, whole seconds); cron fires at or after it.
    public let start: Timestamp

    private let timeZone: TimeZone
    private let rule: Rule

    private enum Rule: Sendable, Hashable {
        case cron(CronExpression)
        case rrule(RecurrenceRule.Plan)
        case once(Timestamp)
    }

    /// Parses a schedule whose kind is given as text (`cron`, `rrule` or `once`).
    public init(kind: String, expression: String, timeZone: String, start: Timestamp) throws(ScheduleError) {
        guard let known = ScheduleKind(rawValue: kind) else {
            let kinds = ScheduleKind.allCases.map(\.rawValue).joined(separator: ", ")
            throw ScheduleError(pointer: ScheduleError.kindPointer, message: "must be one of \(kinds)")
        }
        try self.init(kind: known, expression: expression, timeZone: timeZone, start: start)
    }

    /// Parses a schedule; the error names the field (`/schedule_expr`, `/timezone`) and the position.
    public init(kind: ScheduleKind, expression: String, timeZone: String, start: Timestamp) throws(ScheduleError) {
        guard let zone = Self.ianaTimeZone(timeZone) else {
            throw ScheduleError(
                pointer: ScheduleError.timeZonePointer,
                message: "'\(timeZone)' is not an IANA time zone name such as Europe/Berlin or UTC")
        }
        guard expression.count <= Self.maximumExpressionLength else {
            throw .expression("is longer than \(Self.maximumExpressionLength) characters", at: nil)
        }
        self.kind = kind
        self.expression = expression
        self.timeZoneIdentifier = timeZone
        self.start = start
        self.timeZone = zone
        switch kind {
        case .cron:
            rule = .cron(try CronExpression.parse(expression))
        case .rrule:
            var table = ZoneTable(zone)
            let startWall = table.local(LocalCalendar.floorDiv(start.microsecondsSinceEpoch, 1_000_000)).wall
            rule = .rrule(try RecurrenceRule.parse(expression).plan(start: startWall))
        case .once:
            guard let instant = Timestamp(rfc3339: expression) else {
                throw .expression(
                    "must be an RFC 3339 instant with Z or an offset, e.g. 2026-03-29T01:30:00Z or "
                        + "2026-03-29T03:30:00.5+02:00", at: nil)
            }
            rule = .once(instant)
        }
    }

    /// The next `count` fire times strictly after an instant, ascending and distinct; fewer when the schedule
    /// ends, or when nothing more fires within the search horizon (cron: 50 years from the previous fire time;
    /// RRULE: local years up to 100 after the start's or `after`'s). `count` is capped at `maximumCount`.
    public func nextFireTimes(after: Timestamp, count: Int) -> [Timestamp] {
        let count = min(count, Self.maximumCount)
        guard count > 0 else { return [] }
        switch rule {
        case .once(let instant): return instant > after ? [instant] : []
        case .cron(let cron): return cronFireTimes(cron, after: after, count: count)
        case .rrule(let plan): return rruleFireTimes(plan, after: after, count: count)
        }
    }

    /// The first fire time strictly after an instant, or nil when there is none.
    public func next(after: Timestamp) -> Timestamp? {
        nextFireTimes(after: after, count: 1).first
    }

    private func cronFireTimes(_ cron: CronExpression, after: Timestamp, count: Int) -> [Timestamp] {
        // Fires at or after the start: search from just before it when it lies ahead.
        var last = max(after.microsecondsSinceEpoch, start.microsecondsSinceEpoch - 1)
        var cursor = CronExpression.Cursor(
            cron, zone: ZoneTable(timeZone), after: LocalCalendar.floorDiv(last, 1_000_000))
        var times: [Timestamp] = []
        // A wall-clock search started inside a repeated hour may first find that hour's earlier pass: skipped.
        var attempts = 0
        while times.count < count, attempts < count + 1000, let instant = cursor.next() {
            let micros = instant * 1_000_000
            if micros > last {
                times.append(Timestamp(microsecondsSinceEpoch: micros))
                last = micros
            } else {
                attempts += 1
            }
        }
        return times
    }

    private func rruleFireTimes(_ plan: RecurrenceRule.Plan, after: Timestamp, count: Int) -> [Timestamp] {
        var zone = ZoneTable(timeZone)
        let afterWall = zone.local(LocalCalendar.floorDiv(after.microsecondsSinceEpoch, 1_000_000)).wall
        let lastYear = max(LocalCalendar.date(wall: plan.start).year, LocalCalendar.date(wall: afterWall).year) + 100
        var iterator = RecurrenceRule.Iterator(
            plan: plan, zone: zone, lastYear: lastYear, skippingTo: afterWall - 2 * LocalCalendar.secondsPerDay)
        // Occurrences come in wall-clock order; their instants do too, except that one inside a DST gap lands
        // after the gap, possibly after later occurrences. Keep the smallest instants seen, and stop at an
        // occurrence that exists on the wall clock: every later occurrence lands after it.
        var found: [Int64] = []
        while let wall = iterator.nextWallTime(), LocalCalendar.date(wall: wall).year <= lastYear {
            let instant = iterator.zone.instant(wall: wall)
            let micros = instant * 1_000_000
            if micros > after.microsecondsSinceEpoch {
                let index = found.partitioningIndex { $0 >= micros }
                if index == found.count || found[index] != micros { found.insert(micros, at: index) }
                if found.count > count { found.removeLast() }
            }
            if found.count == count, micros >= found[count - 1], iterator.zone.local(instant).wall == wall { break }
        }
        return found.map { Timestamp(microsecondsSinceEpoch: $0) }
    }

    /// Whether `identifier` is an IANA time zone name this machine knows (`Europe/Berlin`, `UTC`).
    public static func isIANATimeZone(_ identifier: String) -> Bool { ianaTimeZone(identifier) != nil }

    /// IANA names only: Foundation also accepts abbreviations (`PST`) and offsets (`GMT+2`), which are refused.
    private static func ianaTimeZone(_ identifier: String) -> TimeZone? {
        guard identifier == "UTC" || knownIdentifiers.contains(identifier) || identifier.contains("/"),
            let zone = TimeZone(identifier: identifier)
        else { return nil }
        return zone
    }

    private static let knownIdentifiers = Set(TimeZone.knownTimeZoneIdentifiers)
}

extension [Int64] {
    /// The index of the first element for which `predicate` holds, the elements being partitioned by it.
    fileprivate func partitioningIndex(where predicate: (Int64) -> Bool) -> Int {
        var (low, high) = (0, count)
        while low < high {
            let middle = (low + high) / 2
            if predicate(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
