extension RecurrenceRule {
    /// The occurrences of a plan as local wall times, in order: python-dateutil's `rrule._iter`, period by
    /// period (a year, month, week, day, hour or minute), each period's candidate days filtered by the BY parts,
    /// then combined with the times of day, BYSETPOS picked, and UNTIL and COUNT applied.
    ///
    /// An occurrence is a wall time; `zone` turns it into an instant as dateutil's zone-aware datetimes do
    /// (`fold = 0`): a wall time DST skips keeps the offset from before the gap, a repeated one means its first
    /// occurrence. A UTC `UNTIL` is compared with that instant, a local one with the wall time.
    struct Iterator {
        let plan: Plan
        var zone: ZoneTable
        /// Periods of a later local year than this are not expanded (the search's horizon).
        let lastYear: Int
        private var info = YearInfo()
        private var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, weekday: Int
        private var timeSet: [Int]
        private var remaining: Int?
        private var filtered = false
        private var finished = false
        private var buffer: [Int64] = []
        private var next = 0

        /// Starts at the plan's start; without a COUNT, `skippingTo` (wall seconds) skips the whole periods that
        /// end before it, which changes no occurrence after it.
        init(plan: Plan, zone: ZoneTable, lastYear: Int, skippingTo target: Int64? = nil) {
            self.plan = plan
            self.zone = zone
            self.lastYear = lastYear
            let date = LocalCalendar.date(wall: plan.start)
            let secondOfDay = LocalCalendar.secondOfDay(wall: plan.start)
            (year, month, day) = (date.year, date.month, date.day)
            (hour, minute, second) = (secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
            weekday = LocalCalendar.weekdayFromMonday(days: LocalCalendar.days(date))
            remaining = plan.count
            timeSet = []
            if let target, plan.count == nil { skip(to: target) }
            info.rebuild(year: year, month: month, plan: plan)
            if plan.frequency < .hourly {
                timeSet = plan.timeSet
            } else if let byHour = plan.byHour, !byHour.contains(hour) {
                timeSet = []
            } else if plan.frequency == .minutely, let byMinute = plan.byMinute, !byMinute.contains(minute) {
                timeSet = []
            } else {
                timeSet = times(hour: hour, minute: minute)
            }
        }

        /// The next occurrence (local wall seconds), or nil when the rule or the horizon ends.
        mutating func nextWallTime() -> Int64? {
            while next == buffer.count {
                guard !finished else { return nil }
                buffer.removeAll(keepingCapacity: true)
                next = 0
                expandPeriod()
                if !finished { advancePeriod() }
            }
            defer { next += 1 }
            return buffer[next]
        }

        /// The times of day of an HOURLY or MINUTELY period (dateutil's `htimeset` / `mtimeset`).
        private func times(hour: Int, minute: Int) -> [Int] {
            let minutes = plan.frequency == .hourly ? (plan.byMinute ?? [minute]).sorted() : [minute]
            return minutes.flatMap { minute in plan.bySecond.map { hour * 3600 + minute * 60 + $0 } }
        }

        private mutating func skip(to target: Int64) {
            let startDays = LocalCalendar.dayNumber(wall: plan.start)
            let targetDays = LocalCalendar.dayNumber(wall: target)
            let targetDate = LocalCalendar.date(days: targetDays)
            func periods(_ distance: Int64, _ length: Int) -> Int64 {
                LocalCalendar.floorDiv(distance, Int64(length * plan.interval))
            }
            func moveTo(days: Int64) {
                let date = LocalCalendar.date(days: days)
                (year, month, day) = (date.year, date.month, date.day)
            }
            switch plan.frequency {
            case .yearly:
                let count = periods(Int64(targetDate.year - year), 1)
                if count > 0 { year += Int(count) * plan.interval }
            case .monthly:
                let origin = Int64(year * 12 + month - 1)
                let count = periods(Int64(targetDate.year * 12 + targetDate.month - 1) - origin, 1)
                guard count > 0 else { return }
                let index = origin + count * Int64(plan.interval)
                (year, month) = (
                    Int(LocalCalendar.floorDiv(index, 12)), Int(index - LocalCalendar.floorDiv(index, 12) * 12) + 1
                )
            case .weekly:
                // After the first (possibly partial) week, periods start on WKST.
                let weekStart = startDays - Int64(LocalCalendar.divMod(weekday - plan.weekStart, 7).remainder)
                let count = periods(targetDays - weekStart, 7)
                guard count > 0 else { return }
                moveTo(days: weekStart + count * Int64(7 * plan.interval))
                weekday = plan.weekStart
            case .daily:
                let count = periods(targetDays - startDays, 1)
                if count > 0 { moveTo(days: startDays + count * Int64(plan.interval)) }
            case .hourly, .minutely:
                let unit: Int64 = plan.frequency == .hourly ? 3600 : 60
                let origin = LocalCalendar.floorDiv(plan.start, unit)
                let count = periods(LocalCalendar.floorDiv(target, unit) - origin, 1)
                guard count > 0 else { return }
                let wall = (origin + count * Int64(plan.interval)) * unit
                moveTo(days: LocalCalendar.dayNumber(wall: wall))
                let secondOfDay = LocalCalendar.secondOfDay(wall: wall)
                hour = secondOfDay / 3600
                if unit == 60 { minute = secondOfDay / 60 % 60 }
            }
        }

        /// One period's occurrences into `buffer`.
        private mutating func expandPeriod() {
            guard year <= lastYear else {
                finished = true
                return
            }
            let days = dayRange()
            var kept: [Int] = []
            kept.reserveCapacity(days.count)
            filtered = false
            for index in days {
                if matches(index) { kept.append(index) } else { filtered = true }
            }
            if !plan.bySetPosition.isEmpty, !timeSet.isEmpty {
                var picked: [Int64] = []
                for position in plan.bySetPosition {
                    let (dayPosition, timePosition) = LocalCalendar.divMod(
                        position > 0 ? position - 1 : position, timeSet.count)
                    let index = dayPosition < 0 ? kept.count + dayPosition : dayPosition
                    guard kept.indices.contains(index) else { continue }
                    let wall = wallTime(kept[index], timeSet[timePosition])
                    if !picked.contains(wall) { picked.append(wall) }
                }
                for wall in picked.sorted() where !emit(wall) { return }
            } else {
                for index in kept {
                    for time in timeSet where !emit(wallTime(index, time)) { return }
                }
            }
        }

        private func wallTime(_ dayIndex: Int, _ secondOfDay: Int) -> Int64 {
            (info.firstDay + Int64(dayIndex)) * LocalCalendar.secondsPerDay + Int64(secondOfDay)
        }

        /// Applies UNTIL, the start and COUNT to one candidate; false once the rule has ended.
        private mutating func emit(_ wall: Int64) -> Bool {
            switch plan.until {
            case .instant(let until) where zone.instant(wall: wall) > until, .wall(let until) where wall > until:
                finished = true
                return false
            default: break
            }
            guard wall >= plan.start else { return true }
            if let count = remaining {
                guard count > 0 else {
                    finished = true
                    return false
                }
                remaining = count - 1
            }
            buffer.append(wall)
            return true
        }

        /// Moves to the next period (dateutil's "Handle frequency and interval").
        private mutating func advancePeriod() {
            var fixDay = false
            switch plan.frequency {
            case .yearly:
                year += plan.interval
                info.rebuild(year: year, month: month, plan: plan)
            case .monthly:
                (year, month) = (year + (month - 1 + plan.interval) / 12, (month - 1 + plan.interval) % 12 + 1)
                info.rebuild(year: year, month: month, plan: plan)
            case .weekly:
                day += plan.interval * 7 - LocalCalendar.divMod(weekday - plan.weekStart, 7).remainder
                weekday = plan.weekStart
                fixDay = true
            case .daily:
                day += plan.interval
                fixDay = true
            case .hourly:
                if filtered { hour += (23 - hour) / plan.interval * plan.interval }  // to the day's last period
                guard let (days, nextHour) = step(hour, within: plan.byHour, base: 24) else { return finish() }
                hour = nextHour
                if days != 0 {
                    day += days
                    fixDay = true
                }
                timeSet = times(hour: hour, minute: minute)
            case .minutely:
                if filtered { minute += (1439 - (hour * 60 + minute)) / plan.interval * plan.interval }
                var valid = false
                for _ in 0..<1440 / LocalCalendar.gcd(plan.interval, 1440) {
                    guard let (hours, nextMinute) = step(minute, within: plan.byMinute, base: 60) else {
                        return finish()
                    }
                    minute = nextMinute
                    let (days, nextHour) = LocalCalendar.divMod(hour + hours, 24)
                    hour = nextHour
                    if days != 0 {
                        day += days
                        fixDay = true
                    }
                    if plan.byHour?.contains(hour) ?? true {
                        valid = true
                        break
                    }
                }
                guard valid else { return finish() }
                timeSet = times(hour: hour, minute: minute)
            }
            if fixDay, day > 28 {
                var length = LocalCalendar.daysInMonth(year: year, month: month)
                guard day > length else { return }
                while day > length {
                    day -= length
                    (year, month) = month == 12 ? (year + 1, 1) : (year, month + 1)
                    length = LocalCalendar.daysInMonth(year: year, month: month)
                }
                info.rebuild(year: year, month: month, plan: plan)
            }
        }

        private mutating func finish() { finished = true }

        /// Steps a value by the interval until it lies in `allowed` (dateutil's `__mod_distance`), or once
        /// without `allowed`: the carry into the next unit and the new value.
        private func step(_ value: Int, within allowed: Set<Int>?, base: Int) -> (Int, Int)? {
            guard let allowed else { return LocalCalendar.divMod(value + plan.interval, base) }
            var (carry, value) = (0, value)
            for _ in 0..<base {
                let (quotient, remainder) = LocalCalendar.divMod(value + plan.interval, base)
                carry += quotient
                value = remainder
                if allowed.contains(value) { return (carry, value) }
            }
            return nil
        }

        private func dayRange() -> Range<Int> {
            let today = Int(
                LocalCalendar.days(LocalCalendar.CivilDate(year: year, month: month, day: day)) - info.firstDay)
            switch plan.frequency {
            case .yearly: return 0..<info.length
            case .monthly: return info.monthStarts[month - 1]..<info.monthStarts[month]
            case .weekly:
                var end = today
                for _ in 0..<7 {
                    end += 1
                    if info.weekday(end) == plan.weekStart { break }
                }
                return today..<end
            case .daily, .hourly, .minutely: return today..<today + 1
            }
        }

        private func matches(_ index: Int) -> Bool {
            if let byMonth = plan.byMonth, !byMonth.contains(info.month(index)) { return false }
            if let byWeekday = plan.byWeekday, !byWeekday.contains(info.weekday(index)) { return false }
            if !info.nthWeekdayMask.isEmpty, !info.nthWeekdayMask[index] { return false }
            if !plan.byMonthDay.isEmpty || !plan.byNegativeMonthDay.isEmpty,
                !plan.byMonthDay.contains(info.monthDay(index)),
                !plan.byNegativeMonthDay.contains(info.negativeMonthDay(index))
            {
                return false
            }
            return true
        }
    }
}
