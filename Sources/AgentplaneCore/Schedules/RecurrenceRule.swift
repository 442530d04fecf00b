/// A parsed RFC 5545 RRULE (the subset DESIGN §5 names), before it meets its start.
struct RecurrenceRule: Sendable, Hashable {
    /// `FREQ`, in dateutil's order (a larger value is a finer period).
    enum Frequency: Int, Sendable, Comparable, CaseIterable {
        case yearly, monthly, weekly, daily, hourly, minutely

        static func < (lhs: Frequency, rhs: Frequency) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// `UNTIL`: a UTC instant (`…Z`), compared with each occurrence's instant, or a local date-time, compared
    /// with each occurrence's local wall time (dateutil compares two times of the same zone on the wall clock).
    enum Until: Sendable, Hashable {
        case instant(Int64)
        case wall(Int64)
    }

    /// A `BYDAY` entry: the weekday (Monday = 0) and, for MONTHLY and YEARLY rules, its optional ordinal.
    struct WeekdayNumber: Sendable, Hashable {
        var weekday: Int
        var ordinal: Int?
    }

    var frequency: Frequency = .daily
    var interval = 1
    var count: Int?
    var until: Until?
    var bySetPosition: [Int] = []
    var byMonth: [Int]?
    var byMonthDay: [Int]?
    var byDay: [WeekdayNumber]?
    var byHour: [Int]?
    var byMinute: [Int]?
    var bySecond: [Int]?
    /// `WKST`, Monday = 0.
    var weekStart = 0
    /// Where each part starts in the expression, for the errors found once the start is known.
    var offsets: [String: Int] = [:]

    /// The rule with dateutil's defaults filled in from the start, ready to expand (see `Plan`).
    func plan(start: Int64) throws(ScheduleError) -> Plan {
        try Plan(rule: self, start: start)
    }
}

extension RecurrenceRule {
    /// The rule as dateutil's `rrule.__init__` leaves it: parts the rule leaves out are taken from the start
    /// (YEARLY: its month and day; MONTHLY: its day; WEEKLY: its weekday; coarser than HOURLY: its hour,
    /// coarser than MINUTELY: its minute; always its second), and BYHOUR of an HOURLY rule or BYMINUTE of a
    /// MINUTELY rule keep only the values the interval can reach from the start.
    struct Plan: Sendable, Hashable {
        var frequency: Frequency
        var interval: Int
        var count: Int?
        var until: Until?
        /// DTSTART: local wall seconds, whole seconds.
        var start: Int64
        var weekStart: Int
        var bySetPosition: [Int]
        var byMonth: Set<Int>?
        var byMonthDay: Set<Int> = []
        var byNegativeMonthDay: Set<Int> = []
        var byWeekday: Set<Int>?
        var byNthWeekday: [WeekdayNumber] = []
        var byHour: Set<Int>?
        var byMinute: Set<Int>?
        var bySecond: [Int]
        /// For rules coarser than HOURLY: every time of day an occurrence can have, in seconds, sorted.
        var timeSet: [Int] = []

        init(rule: RecurrenceRule, start: Int64) throws(ScheduleError) {
            let startDate = LocalCalendar.date(wall: start)
            let secondOfDay = LocalCalendar.secondOfDay(wall: start)
            let (startHour, startMinute, startSecond) = (secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
            frequency = rule.frequency
            interval = rule.interval
            count = rule.count
            until = rule.until
            self.start = start
            weekStart = rule.weekStart
            bySetPosition = rule.bySetPosition
            var byMonthDays = rule.byMonthDay
            var byDay = rule.byDay
            byMonth = rule.byMonth.map(Set.init)
            if byMonthDays == nil, byDay == nil {
                switch frequency {
                case .yearly:
                    byMonth = byMonth ?? [startDate.month]
                    byMonthDays = [startDate.day]
                case .monthly: byMonthDays = [startDate.day]
                case .weekly:
                    let weekday = LocalCalendar.weekdayFromMonday(days: LocalCalendar.days(startDate))
                    byDay = [WeekdayNumber(weekday: weekday)]
                default: break
                }
            }
            for day in byMonthDays ?? [] {
                if day > 0 { byMonthDay.insert(day) } else { byNegativeMonthDay.insert(day) }
            }
            if let byDay {
                let plain = byDay.filter { $0.ordinal == nil }.map(\.weekday)
                byWeekday = plain.isEmpty ? nil : Set(plain)
                byNthWeekday = byDay.filter { $0.ordinal != nil }
            }
            let interval = interval
            func reachable(_ part: String, _ values: [Int], from start: Int, base: Int) throws(ScheduleError) -> Set<
                Int
            > {
                let step = LocalCalendar.gcd(interval, base)
                let kept = Set(values.filter { LocalCalendar.divMod($0 - start, step).remainder == 0 })
                guard kept.isEmpty else { return kept }
                throw Self.error(
                    part, in: rule,
                    "no value is reachable from the start (\(start)) in steps of INTERVAL=\(interval)")
            }
            if let hours = rule.byHour {
                byHour = frequency == .hourly ? try reachable("BYHOUR", hours, from: startHour, base: 24) : Set(hours)
            } else if frequency < .hourly {
                byHour = [startHour]
            }
            if let minutes = rule.byMinute {
                byMinute =
                    frequency == .minutely
                    ? try reachable("BYMINUTE", minutes, from: startMinute, base: 60) : Set(minutes)
            } else if frequency < .minutely {
                byMinute = [startMinute]
            }
            bySecond = Array(Set(rule.bySecond ?? [startSecond])).sorted()
            if frequency < .hourly, let byHour, let byMinute {
                timeSet = byHour.flatMap { hour in
                    byMinute.flatMap { minute in bySecond.map { hour * 3600 + minute * 60 + $0 } }
                }.sorted()
            }
            if frequency == .minutely, let byHour {
                // dateutil stops with "Invalid combination of interval and byhour" when no minute of the day
                // that the interval reaches from the start lies in an allowed hour (and minute).
                let step = LocalCalendar.gcd(interval, 1440)
                let origin = startHour * 60 + startMinute
                let hit = stride(from: origin % step, to: 1440, by: step).contains { minuteOfDay in
                    byHour.contains(minuteOfDay / 60) && (byMinute?.contains(minuteOfDay % 60) ?? true)
                }
                if !hit {
                    throw Self.error(
                        "BYHOUR", in: rule,
                        "no allowed hour is reachable from the start in steps of INTERVAL=\(interval) minutes")
                }
            }
        }

        private static func error(_ part: String, in rule: RecurrenceRule, _ message: String) -> ScheduleError {
            let offset = rule.offsets[part]
            return .expression("\(part) at offset \(offset ?? 0): \(message)", at: offset)
        }
    }
}
