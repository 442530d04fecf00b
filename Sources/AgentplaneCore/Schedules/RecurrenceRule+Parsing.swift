extension RecurrenceRule {
    /// The largest `INTERVAL` accepted.
    static let maximumInterval = 10_000
    /// The largest `COUNT` accepted: a counted rule is expanded from its start on every question.
    static let maximumCount = 10_000
    private static let weekdayCodes = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]

    /// Characters with their offset in the expression.
    private struct Slice {
        var text: [Character]
        var offset: Int

        var string: String { String(text) }
    }

    /// Parses `FREQ=…;…` (optionally prefixed `RRULE:`, case-insensitive); errors name the part and offset.
    static func parse(_ expression: String) throws(ScheduleError) -> RecurrenceRule {
        let characters = Array(expression)
        var begin = characters.firstIndex { !$0.isWhitespace } ?? characters.count
        let end = (characters.lastIndex { !$0.isWhitespace } ?? -1) + 1
        if end - begin >= 6, String(characters[begin..<begin + 6].map(\.asciiUppercased)) == "RRULE:" { begin += 6 }
        guard begin < end else { throw .expression("is empty: expected a rule such as FREQ=DAILY;BYHOUR=9", at: nil) }
        if let space = characters[begin..<end].firstIndex(where: \.isWhitespace) {
            throw .expression("unexpected whitespace at offset \(space)", at: space)
        }
        var rule = RecurrenceRule()
        var sawFrequency = false
        var byDayItems: [(WeekdayNumber, Int)] = []
        for part in split(Slice(text: Array(characters[begin..<end]), offset: begin), at: ";") {
            guard let equals = part.text.firstIndex(of: "=") else {
                let what = part.text.isEmpty ? "an empty rule part" : "'\(part.string)'"
                throw .expression("\(what) at offset \(part.offset): expected NAME=VALUE", at: part.offset)
            }
            let name = String(part.text[..<equals].map(\.asciiUppercased))
            let value = Slice(text: part.text[(equals + 1)...].map(\.asciiUppercased), offset: part.offset + equals + 1)
            func fail(_ message: String, at offset: Int? = nil) -> ScheduleError {
                let offset = offset ?? part.offset
                return .expression("\(name) at offset \(offset): \(message)", at: offset)
            }
            guard rule.offsets[name] == nil else { throw fail("appears twice") }
            rule.offsets[name] = part.offset
            guard !value.text.isEmpty else { throw fail("has no value") }
            switch name {
            case "FREQ":
                let names = ["YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY"]
                guard let index = names.firstIndex(of: value.string) else {
                    throw fail(
                        value.string == "SECONDLY"
                            ? "SECONDLY is not supported (the finest frequency is MINUTELY)"
                            : "'\(value.string)' is not one of \(names.joined(separator: ", "))", at: value.offset)
                }
                rule.frequency = Frequency(rawValue: index)!
                sawFrequency = true
            case "INTERVAL": rule.interval = try integers(value, 1...maximumInterval, fail).only(fail)
            case "COUNT": rule.count = try integers(value, 1...maximumCount, fail).only(fail)
            case "UNTIL": rule.until = try until(value, fail)
            case "WKST":
                guard let day = weekdayCodes.firstIndex(of: value.string) else {
                    throw fail("'\(value.string)' is not a weekday (MO … SU)", at: value.offset)
                }
                rule.weekStart = day
            case "BYSETPOS": rule.bySetPosition = try integers(value, 1...366, fail, signed: true)
            case "BYMONTH": rule.byMonth = try integers(value, 1...12, fail)
            case "BYMONTHDAY": rule.byMonthDay = try integers(value, 1...31, fail, signed: true)
            case "BYHOUR": rule.byHour = try integers(value, 0...23, fail)
            case "BYMINUTE": rule.byMinute = try integers(value, 0...59, fail)
            case "BYSECOND": rule.bySecond = try integers(value, 0...59, fail)
            case "BYDAY":
                byDayItems = try split(value, at: ",").map { item throws(ScheduleError) in
                    (try weekdayNumber(item, fail), item.offset)
                }
                rule.byDay = byDayItems.map(\.0)
            case "BYWEEKNO", "BYYEARDAY", "BYEASTER", "DTSTART", "RSCALE", "SKIP":
                throw fail("is not supported")
            default:
                throw .expression("unknown rule part '\(name)' at offset \(part.offset)", at: part.offset)
            }
        }
        guard sawFrequency else { throw .expression("FREQ is required (e.g. FREQ=DAILY)", at: begin) }
        try checkCombinations(rule, byDayItems)
        return rule
    }

    private static func checkCombinations(
        _ rule: RecurrenceRule, _ byDayItems: [(WeekdayNumber, Int)]
    ) throws(ScheduleError) {
        if rule.count != nil, let offset = rule.offsets["UNTIL"] {
            throw .expression("UNTIL at offset \(offset): COUNT and UNTIL must not be used together", at: offset)
        }
        let ordinals = byDayItems.filter { $0.0.ordinal != nil }
        guard let first = ordinals.first else { return }
        guard rule.frequency <= .monthly else {
            throw .expression(
                "BYDAY at offset \(first.1): an ordinal weekday such as 1MO needs FREQ=MONTHLY or FREQ=YEARLY",
                at: first.1)
        }
        if ordinals.count != byDayItems.count {
            throw .expression(
                "BYDAY at offset \(first.1): mixing weekdays with and without an ordinal (e.g. MO,1FR) is not "
                    + "supported", at: first.1)
        }
        let withinMonth = rule.frequency == .monthly || rule.byMonth != nil
        let limit = withinMonth ? 5 : 53
        if let (item, offset) = ordinals.first(where: { abs($0.0.ordinal!) > limit }) {
            let scope = withinMonth ? "weeks of a month" : "weeks of a year"
            throw .expression(
                "BYDAY at offset \(offset): ordinal \(item.ordinal!) is out of range; use 1 to \(limit) or "
                    + "-\(limit) to -1 (\(scope))", at: offset)
        }
    }

    /// `[+|-]n` ordinals and two-letter weekday codes: `MO`, `1MO`, `+2TU`, `-1FR`.
    private static func weekdayNumber(
        _ item: Slice, _ fail: (String, Int?) -> ScheduleError
    ) throws(ScheduleError) -> WeekdayNumber {
        guard item.text.count >= 2, let day = weekdayCodes.firstIndex(of: String(item.text.suffix(2))) else {
            throw fail(
                "'\(item.string)' is not a weekday (MO, TU, WE, TH, FR, SA, SU, optionally after an "
                    + "ordinal such as 1 or -1)", item.offset)
        }
        let prefix = Slice(text: Array(item.text.dropLast(2)), offset: item.offset)
        guard !prefix.text.isEmpty else { return WeekdayNumber(weekday: day) }
        let ordinal = try integers(prefix, 1...53, fail, signed: true).only(fail)
        return WeekdayNumber(weekday: day, ordinal: ordinal)
    }

    /// `YYYYMMDDTHHMMSSZ` (UTC) or `YYYYMMDDTHHMMSS` (local wall time in the schedule's zone).
    private static func until(_ value: Slice, _ fail: (String, Int?) -> ScheduleError) throws(ScheduleError) -> Until {
        let text = value.text
        let utc = text.count == 16 && text[15] == "Z"
        let digits = text.prefix(15).enumerated().allSatisfy {
            $0.offset == 8 ? $0.element == "T" : $0.element.isASCIIDigit
        }
        guard text.count == 15 || utc, digits else {
            throw fail("expected a date-time YYYYMMDDTHHMMSSZ (UTC) or YYYYMMDDTHHMMSS (local)", value.offset)
        }
        func number(_ range: Range<Int>) -> Int { text[range].reduce(0) { $0 * 10 + $1.wholeNumberValue! } }
        let date = LocalCalendar.CivilDate(year: number(0..<4), month: number(4..<6), day: number(6..<8))
        let (hour, minute, second) = (number(9..<11), number(11..<13), number(13..<15))
        guard (1...12).contains(date.month),
            (1...LocalCalendar.daysInMonth(year: date.year, month: date.month))
                .contains(date.day), hour < 24, minute < 60, second < 60
        else { throw fail("\(value.string) is not a valid date-time", value.offset) }
        let wall = LocalCalendar.wall(date, secondOfDay: hour * 3600 + minute * 60 + second)
        return utc ? .instant(wall) : .wall(wall)
    }

    /// A comma-separated list of integers within `range` (or, when `signed`, within its negation too).
    private static func integers(
        _ value: Slice, _ range: ClosedRange<Int>, _ fail: (String, Int?) -> ScheduleError, signed: Bool = false
    ) throws(ScheduleError) -> [Int] {
        var numbers: [Int] = []
        for item in split(value, at: ",") {
            var text = item.text[...]
            let negative = signed && text.first == "-"
            if signed, text.first == "-" || text.first == "+" { text = text.dropFirst() }
            guard !text.isEmpty, text.count <= 6, text.allSatisfy(\.isASCIIDigit) else {
                let what = item.text.isEmpty ? "an empty value" : "'\(item.string)' is not a whole number"
                throw fail(what, item.offset)
            }
            let magnitude = text.reduce(0) { $0 * 10 + $1.wholeNumberValue! }
            guard range.contains(magnitude) else {
                let allowed =
                    signed
                    ? "\(range.lowerBound) to \(range.upperBound) or -\(range.upperBound) to -\(range.lowerBound)"
                    : "\(range.lowerBound) to \(range.upperBound)"
                let shown = negative ? -magnitude : magnitude
                let message =
                    magnitude == 0 && signed
                    ? "0 is not allowed; use \(allowed)" : "\(shown) is out of range \(allowed)"
                throw fail(message, item.offset)
            }
            numbers.append(negative ? -magnitude : magnitude)
        }
        return numbers
    }

    private static func split(_ slice: Slice, at separator: Character) -> [Slice] {
        var pieces: [Slice] = []
        var start = 0
        for (index, character) in slice.text.enumerated() where character == separator {
            pieces.append(Slice(text: Array(slice.text[start..<index]), offset: slice.offset + start))
            start = index + 1
        }
        pieces.append(Slice(text: Array(slice.text[start...]), offset: slice.offset + start))
        return pieces
    }
}

extension [Int] {
    /// The single element of a list, or an error for a list.
    fileprivate func only(_ fail: (String, Int?) -> ScheduleError) throws(ScheduleError) -> Int {
        guard count == 1 else { throw fail("takes one value, not a list", nil) }
        return self[0]
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
    /// Upper case for ASCII letters only, so every character keeps its offset.
    fileprivate var asciiUppercased: Character { isASCII ? Character(uppercased()) : self }
}
