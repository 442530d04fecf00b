extension CronExpression {
    /// The search for the next fire time, step for step the algorithm of `cronsim` 2.x (the oracle):
    /// roll the month, then the day, the hour, the minute and the second forward until all match, restarting
    /// from the month whenever a step moved the time. Each step jumps (to the next month, the next day, the next
    /// hour, or straight to the one allowed minute or second); nothing walks minute by minute over years. A
    /// search that finds nothing within 50 years of where it started gives up.
    ///
    /// Two ways to move through time, as Debian cron does:
    /// - `walksWallClock` (fixed local times): the cursor is a plain local wall time. A match that DST skips
    ///   moves forward minute by minute to the first time that exists (`30 2 * * *` on a 02:00→03:00 night
    ///   fires at 03:00); a repeated time is read as its first occurrence, so it fires once.
    /// - otherwise (a `*` minute or hour, or 6 fields): the cursor is a zoned time that `tick` moves in real
    ///   seconds, so `*/15 * * * *` fires every 15 real minutes through both transitions, a time DST skips does
    ///   not fire, and a repeated time fires at both of its occurrences.
    struct Cursor {
        let expression: CronExpression
        var zone: ZoneTable
        /// Local wall seconds.
        var wall: Int64
        /// Which occurrence of a repeated wall time (zoned mode only).
        var fold: Bool

        /// Starts the search at an instant (whole seconds): the first result lies after it.
        init(_ expression: CronExpression, zone: ZoneTable, after instant: Int64) {
            self.expression = expression
            self.zone = zone
            let local = self.zone.local(instant)
            self.wall = local.wall
            self.fold = expression.walksWallClock ? false : local.fold
        }

        /// The next fire time (an instant in whole seconds), or nil when none comes within 50 years.
        mutating func next() -> Int64? {
            tick(1)
            guard advance() else { return nil }
            guard expression.walksWallClock else { return zone.instant(wall: wall, fold: fold) }
            while zone.isImaginary(wall: wall) { wall += 60 }
            return zone.instant(wall: wall)
        }

        private var secondOfDay: Int { LocalCalendar.secondOfDay(wall: wall) }
        private var hour: Int { secondOfDay / 3600 }
        private var minute: Int { secondOfDay / 60 % 60 }
        private var second: Int { secondOfDay % 60 }

        /// Moves the cursor by real seconds (zoned) or wall seconds (wall clock).
        private mutating func tick(_ seconds: Int) {
            if expression.walksWallClock {
                wall += Int64(seconds)
                return
            }
            (wall, fold) = zone.local(zone.instant(wall: wall, fold: fold) + Int64(seconds))
        }

        private mutating func advance() -> Bool {
            let startYear = LocalCalendar.date(wall: wall).year
            while true {
                advanceMonth()
                if LocalCalendar.date(wall: wall).year > startYear + 50 { return false }
                if advanceDay() || advanceHour() || advanceMinute() || advanceSecond() { continue }
                return true
            }
        }

        private mutating func advanceMonth() {
            var date = LocalCalendar.date(wall: wall)
            guard !expression.allows(.month, date.month) else { return }
            while !expression.allows(.month, date.month) {
                date =
                    date.month == 12
                    ? LocalCalendar.CivilDate(year: date.year + 1, month: 1, day: 1)
                    : LocalCalendar.CivilDate(year: date.year, month: date.month + 1, day: 1)
            }
            wall = LocalCalendar.wall(date)
            fold = false
        }

        private mutating func advanceDay() -> Bool {
            var days = LocalCalendar.dayNumber(wall: wall)
            guard !expression.matchesDay(days: days) else { return false }
            while !expression.matchesDay(days: days) {
                days += 1
                if LocalCalendar.date(days: days).day == 1 { break }  // a new month: check it first
            }
            wall = days * LocalCalendar.secondsPerDay
            fold = false
            return true
        }

        private mutating func advanceHour() -> Bool {
            guard !expression.allows(.hour, hour) else { return false }
            wall -= Int64(secondOfDay % 3600)
            while !expression.allows(.hour, hour) {
                tick(3600)
                if hour == 0 { break }  // a new day: check it first
            }
            return true
        }

        private mutating func advanceMinute() -> Bool {
            guard !expression.allows(.minute, minute) else { return false }
            wall -= Int64(second)
            if let target = expression.single(.minute) {
                tick(LocalCalendar.divMod(target - minute, 60).remainder * 60)
            }
            while !expression.allows(.minute, minute) {
                tick(60)
                if minute == 0 { break }  // a new hour: check it first
            }
            return true
        }

        private mutating func advanceSecond() -> Bool {
            guard !expression.allows(.second, second) else { return false }
            if let target = expression.single(.second) {
                tick(LocalCalendar.divMod(target - second, 60).remainder)
            }
            while !expression.allows(.second, second) {
                tick(1)
                if second == 0 { break }  // a new minute: check it first
            }
            return true
        }
    }
}
