extension RecurrenceRule {
    /// dateutil's `_iterinfo`: per-year lookups by day index (0 = January 1), 7 days longer than the year so a
    /// weekly period may run into the next January.
    struct YearInfo {
        private struct Masks {
            var monthStarts: [Int]
            var month: [Int8]
            var monthDay: [Int8]
            var negativeMonthDay: [Int8]

            init(leap: Bool) {
                let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
                monthStarts = lengths.reduce(into: [0]) { $0.append($0.last! + $1) }
                month = []
                monthDay = []
                negativeMonthDay = []
                for (index, length) in (lengths + [7]).enumerated() {
                    let daysInMonth = index == 12 ? 31 : length  // the 7 extra days are next January's
                    for day in 1...length {
                        month.append(Int8(index % 12 + 1))
                        monthDay.append(Int8(day))
                        negativeMonthDay.append(Int8(day - daysInMonth - 1))
                    }
                }
            }
        }

        private static let common = Masks(leap: false)
        private static let leap = Masks(leap: true)

        private(set) var year = Int.min
        private var lastMonth = Int.min
        private var masks = YearInfo.common
        private(set) var length = 365
        /// The day number (days since 1970-01-01) of January 1.
        private(set) var firstDay: Int64 = 0
        private var firstWeekday = 0
        /// dateutil's `nwdaymask`: the days an ordinal BYDAY selects (empty when the rule has none).
        private(set) var nthWeekdayMask: [Bool] = []

        var monthStarts: [Int] { masks.monthStarts }
        func month(_ day: Int) -> Int { Int(masks.month[day]) }
        func monthDay(_ day: Int) -> Int { Int(masks.monthDay[day]) }
        func negativeMonthDay(_ day: Int) -> Int { Int(masks.negativeMonthDay[day]) }
        func weekday(_ day: Int) -> Int { LocalCalendar.divMod(firstWeekday + day, 7).remainder }

        /// dateutil's `rebuild(year, month)`.
        mutating func rebuild(year: Int, month: Int, plan: Plan) {
            if year != self.year {
                let isLeap = LocalCalendar.isLeap(year)
                masks = isLeap ? Self.leap : Self.common
                length = isLeap ? 366 : 365
                firstDay = LocalCalendar.days(LocalCalendar.CivilDate(year: year, month: 1, day: 1))
                firstWeekday = LocalCalendar.weekdayFromMonday(days: firstDay)
            }
            if !plan.byNthWeekday.isEmpty, month != lastMonth || year != self.year {
                var ranges: [(Int, Int)] = []
                if plan.frequency == .yearly {
                    if let byMonth = plan.byMonth {
                        ranges = byMonth.sorted().map { (monthStarts[$0 - 1], monthStarts[$0]) }
                    } else {
                        ranges = [(0, length)]
                    }
                } else if plan.frequency == .monthly {
                    ranges = [(monthStarts[month - 1], monthStarts[month])]
                }
                nthWeekdayMask = Array(repeating: false, count: length)
                for (first, end) in ranges {
                    let last = end - 1
                    for entry in plan.byNthWeekday {
                        let ordinal = entry.ordinal!
                        var day: Int
                        if ordinal < 0 {
                            day = last + (ordinal + 1) * 7
                            day -= LocalCalendar.divMod(weekday(day) - entry.weekday, 7).remainder
                        } else {
                            day = first + (ordinal - 1) * 7
                            day += LocalCalendar.divMod(7 - weekday(day) + entry.weekday, 7).remainder
                        }
                        if first <= day, day <= last { nthWeekdayMask[day] = true }
                    }
                }
            }
            self.year = year
            lastMonth = month
        }
    }
}
