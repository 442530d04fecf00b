extension ScheduleCaseGenerator {
    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    /// Expressions both the engine and cronsim must refuse.
    static let invalidCron = [
        "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *", "* * * 13 *", "* * * * 8", "*/0 * * * *",
        "5-1 * * * *", "1,,2 * * * *", "* * * * * * *", "* * * *", "@reboot", "0 0 31 2 *", "0 0 30 2 *",
        "0 0 31 4,6 *", "1- * * * *", "* * * JANUARY *", "a * * * *", "0 0 * * MON-SUN",
    ]

    /// A cron expression: lists, ranges, steps, names, macros and 6-field seconds, biased towards the hours
    /// DST moves; a few are invalid.
    mutating func cronExpression() -> String {
        if chance(0.03) { return pick(Self.invalidCron) }
        if chance(0.08) {
            return anyCase(pick(["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]))
        }
        var fields: [String] = []
        if chance(0.2) { fields.append(numericField(0...59, fixedBias: 0.6)) }
        fields.append(numericField(0...59, fixedBias: 0.7))
        fields.append(hourField())
        fields.append(chance(0.6) ? "*" : numericField(1...31, fixedBias: 0.7))
        fields.append(chance(0.7) ? "*" : namedField(1...12, names: Self.monthNames, firstValue: 1))
        fields.append(chance(0.6) ? "*" : namedField(0...7, names: Self.dayNames, firstValue: 0))
        return fields.joined(separator: chance(0.1) ? "  " : " ")
    }

    /// Hours, mostly around 0–4 where the transitions of the test zones happen.
    mutating func hourField() -> String {
        switch int(0...9) {
        case 0: return "*"
        case 1: return "*/\(int(1...5))"
        case 2: return "\(int(0...3))-\(int(3...6))"
        case 3: return "\(int(0...4))/\(int(2...6))"
        case 4: return [int(0...2), int(2...4), int(5...23)].map(String.init).joined(separator: ",")
        case 5: return numericField(0...23, fixedBias: 0.5)
        default: return String(int(0...4))
        }
    }

    /// A field over a numeric range: a value, a list, a range, or `*` with or without a step.
    mutating func numericField(_ range: ClosedRange<Int>, fixedBias: Double) -> String {
        if chance(fixedBias) {
            if chance(0.6) { return String(int(range)) }
            let count = int(2...3)
            return (0..<count).map { _ in item(range) }.joined(separator: ",")
        }
        return chance(0.4) ? "*" : "*/\(int(1...range.count / 2))"
    }

    /// One list item: a value, `a-b`, `a-b/n` or `a/n`.
    mutating func item(_ range: ClosedRange<Int>) -> String {
        let low = int(range)
        switch int(0...5) {
        case 0: return "\(low)-\(int(low...range.upperBound))"
        case 1: return "\(low)-\(int(low...range.upperBound))/\(int(1...10))"
        case 2: return "\(low)/\(int(1...20))"
        default: return String(low)
        }
    }

    /// Months or weekdays, with names in any case, numbers, ranges, lists and steps.
    mutating func namedField(_ range: ClosedRange<Int>, names: [String], firstValue: Int) -> String {
        func name(_ value: Int) -> String { names[(value - firstValue) % names.count] }
        switch int(0...6) {
        case 0: return anyCase(name(int(firstValue...firstValue + names.count - 1)))
        case 1:
            let low = int(firstValue...firstValue + names.count - 2)
            return anyCase("\(name(low))-\(name(int(low...firstValue + names.count - 1)))")
        case 2:
            let values = Set((0..<int(2...3)).map { _ in int(range) }).sorted()
            return values.map { chance(0.5) ? anyCase(name($0)) : String($0) }.joined(separator: ",")
        case 3: return "*/\(int(2...4))"
        case 4: return "\(int(range.lowerBound...range.upperBound - 1))-\(range.upperBound)/\(int(1...3))"
        default: return item(range)
        }
    }
}
