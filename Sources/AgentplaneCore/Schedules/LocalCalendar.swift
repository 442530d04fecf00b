/// Proleptic Gregorian arithmetic on local wall-clock times, kept as seconds since 1970-01-01T00:00 on that
/// wall clock ("wall seconds"): what a zone's clock shows, before any UTC offset is applied.
enum LocalCalendar {
    static let secondsPerDay: Int64 = 86_400

    /// A calendar date.
    struct CivilDate: Hashable, Sendable {
        var year: Int
        var month: Int
        var day: Int
    }

    /// Floor division (rounds towards negative infinity).
    static func floorDiv(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return value % divisor < 0 ? quotient - 1 : quotient
    }

    /// Floor division and the non-negative remainder, like Python's `divmod` for a positive divisor.
    static func divMod(_ value: Int, _ divisor: Int) -> (quotient: Int, remainder: Int) {
        let remainder = ((value % divisor) + divisor) % divisor
        return ((value - remainder) / divisor, remainder)
    }

    /// Greatest common divisor of two positive numbers.
    static func gcd(_ first: Int, _ second: Int) -> Int {
        var (first, second) = (first, second)
        while second != 0 { (first, second) = (second, first % second) }
        return first
    }

    /// Days since 1970-01-01 of a date (the month may be out of range only within a year).
    static func days(_ date: CivilDate) -> Int64 {
        Timestamp.days(year: Int64(date.year), month: date.month, day: date.day)
    }

    /// The date of a day count since 1970-01-01.
    static func date(days: Int64) -> CivilDate {
        let civil = Timestamp.civil(fromDays: days)
        return CivilDate(year: Int(civil.year), month: civil.month, day: civil.day)
    }

    /// Whether a year has February 29.
    static func isLeap(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// Days in a month of a year.
    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Weekday of a day count, Monday = 0 … Sunday = 6 (Python's `date.weekday()`, RFC 5545's order).
    static func weekdayFromMonday(days: Int64) -> Int {
        Int(((days + 3) % 7 + 7) % 7)
    }

    /// The day count of wall seconds.
    static func dayNumber(wall: Int64) -> Int64 { floorDiv(wall, secondsPerDay) }

    /// Seconds since local midnight of wall seconds.
    static func secondOfDay(wall: Int64) -> Int { Int(wall - dayNumber(wall: wall) * secondsPerDay) }

    /// The calendar date of wall seconds.
    static func date(wall: Int64) -> CivilDate { date(days: dayNumber(wall: wall)) }

    /// Wall seconds of a local date and time of day.
    static func wall(_ date: CivilDate, secondOfDay: Int = 0) -> Int64 {
        days(date) * secondsPerDay + Int64(secondOfDay)
    }
}
