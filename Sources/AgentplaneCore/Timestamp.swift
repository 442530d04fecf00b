import Foundation

/// An instant in UTC with microsecond precision, the resolution both stores keep exactly.
public struct Timestamp: Sendable, Hashable, Comparable, Codable {
    /// Microseconds since 1970-01-01T00:00:00Z.
    public var microsecondsSinceEpoch: Int64

    /// Wraps a microsecond count.
    public init(microsecondsSinceEpoch: Int64) {
        self.microsecondsSinceEpoch = microsecondsSinceEpoch
    }

    /// Rounds a `Date` to the nearest microsecond.
    public init(_ date: Date) {
        self.microsecondsSinceEpoch = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    /// The current instant.
    public static func now() -> Timestamp { Timestamp(Date()) }

    /// The same instant as a `Date`.
    public var date: Date { Date(timeIntervalSince1970: Double(microsecondsSinceEpoch) / 1_000_000) }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.microsecondsSinceEpoch < rhs.microsecondsSinceEpoch
    }

    /// RFC 3339 in UTC with six fractional digits, e.g. `2026-11-26T06:20:59.123456Z`.
    public var rfc3339: String {
        let seconds = microsecondsSinceEpoch.floorDivided(by: 1_000_000)
        let micros = Int(microsecondsSinceEpoch - seconds * 1_000_000)
        let days = seconds.floorDivided(by: 86_400)
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = Self.civil(fromDays: days)
        var text = ""
        text.reserveCapacity(27)
        func append(_ value: Int, width: Int) {
            var digits = String(value)
            if digits.count < width { digits = String(repeating: "0", count: width - digits.count) + digits }
            text += digits
        }
        append(Int(year), width: 4)
        text += "-"
        append(month, width: 2)
        text += "-"
        append(day, width: 2)
        text += "T"
        append(secondOfDay / 3600, width: 2)
        text += ":"
        append(secondOfDay / 60 % 60, width: 2)
        text += ":"
        append(secondOfDay % 60, width: 2)
        text += "."
        append(micros, width: 6)
        text += "Z"
        return text
    }

    /// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`):
    /// integer arithmetic only, no calendar object on the hot path of every serialized event.
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Day count since 1970-01-01 of a proleptic Gregorian date (`days_from_civil`).
    static func days(year: Int64, month: Int, day: Int) -> Int64 {
        let adjustedYear = month <= 2 ? year - 1 : year
        let era = (adjustedYear >= 0 ? adjustedYear : adjustedYear - 399) / 400
        let yearOfEra = adjustedYear - era * 400
        let monthIndex = Int64(month > 2 ? month - 3 : month + 9)
        let dayOfYear = (153 * monthIndex + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    public init(from decoder: any Decoder) throws {
        self.init(microsecondsSinceEpoch: try decoder.singleValueContainer().decode(Int64.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(microsecondsSinceEpoch)
    }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor < 0) ? quotient - 1 : quotient
    }
}

extension Timestamp {
    /// Parses RFC 3339 (`2026-11-26T06:20:59.123456Z`, any fraction length, `Z` or `±hh:mm`);
    /// fractions beyond microseconds are truncated. Nil for anything else.
    public init?(rfc3339 text: String) {
        let scalars = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= scalars.count else { return nil }
            var value = 0
            for byte in scalars[range] {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard scalars.count >= 20, scalars[4] == 0x2D, scalars[7] == 0x2D, scalars[10] == 0x54 || scalars[10] == 0x74,
            scalars[13] == 0x3A, scalars[16] == 0x3A,
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var micros = 0
        if scalars[index] == 0x2E {
            index += 1
            var digits = 0
            while index < scalars.count, scalars[index] >= 0x30, scalars[index] <= 0x39 {
                if digits < 6 { micros = micros * 10 + Int(scalars[index] - 0x30) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in min(digits, 6)..<6 { micros *= 10 }
        }
        guard index < scalars.count else { return nil }
        var offsetSeconds = 0
        if scalars[index] == 0x5A || scalars[index] == 0x7A {
            guard index + 1 == scalars.count else { return nil }
        } else {
            guard index + 6 == scalars.count, scalars[index] == 0x2B || scalars[index] == 0x2D,
                scalars[index + 3] == 0x3A,
                let offsetHours = number(index + 1..<index + 3), let offsetMinutes = number(index + 4..<index + 6),
                offsetHours < 24, offsetMinutes < 60
            else { return nil }
            offsetSeconds = (offsetHours * 3600 + offsetMinutes * 60) * (scalars[index] == 0x2D ? -1 : 1)
        }
        let days = Self.days(year: Int64(year), month: month, day: day)
        // Reject dates that do not exist (e.g. February 30) by converting back.
        guard Self.civil(fromDays: days) == (Int64(year), month, day) else { return nil }
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offsetSeconds)
        self.init(microsecondsSinceEpoch: seconds * 1_000_000 + Int64(micros))
    }
}
