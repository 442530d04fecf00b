extension CronExpression {
    /// A run of characters with its offset in the expression.
    private struct Token {
        var text: [Character]
        var offset: Int

        var string: String { String(text) }
    }

    /// Where a field's errors point: its number as written (from 1) and its role.
    private struct FieldContext {
        var field: Field
        var number: Int

        func error(_ message: String, at offset: Int) -> ScheduleError {
            .expression("field \(number) (\(field.name)) at offset \(offset): \(message)", at: offset)
        }
    }

    /// Parses a cron expression or macro; errors name the field and the character offset.
    static func parse(_ expression: String) throws(ScheduleError) -> CronExpression {
        let tokens = split(Array(expression), at: { $0.isWhitespace })
        guard let first = tokens.first else {
            throw .expression("is empty: expected 5 fields (minute hour day-of-month month day-of-week)", at: nil)
        }
        if first.text.first == "@" {
            let name = first.string.lowercased()
            guard let expansion = macros[name] else {
                let known = macros.keys.sorted().joined(separator: ", ")
                throw .expression(
                    "unknown macro \(first.string) at offset \(first.offset); expected one of \(known)",
                    at: first.offset)
            }
            if tokens.count > 1 {
                throw .expression(
                    "a macro stands alone, but more text follows at offset \(tokens[1].offset)", at: tokens[1].offset)
            }
            return try parse(fields: split(Array(expansion), at: { $0 == " " }))
        }
        guard tokens.count == 5 || tokens.count == 6 else {
            let offset = tokens.count > 6 ? tokens[6].offset : expression.count
            let position = tokens.count > 6 ? "field 7 starts at offset \(offset)" : "it ends at offset \(offset)"
            throw .expression(
                "has \(tokens.count) fields (\(position)); expected 5 (minute hour day-of-month month day-of-week) "
                    + "or 6 (a leading second field, then those 5)", at: offset)
        }
        return try parse(fields: tokens)
    }

    private static func parse(fields tokens: [Token]) throws(ScheduleError) -> CronExpression {
        let roles: [Field] = tokens.count == 6 ? Field.allCases : Array(Field.allCases.dropFirst())
        var allowed: [UInt64] = [1, 0, 0, 0, 0, 0]  // a 5-field expression fires at second 0
        for (index, token) in tokens.enumerated() {
            let context = FieldContext(field: roles[index], number: index + 1)
            allowed[roles[index].rawValue] = try parseField(token, context)
        }
        let raw = Dictionary(uniqueKeysWithValues: zip(roles, tokens))
        let dayOfMonthToken = raw[.dayOfMonth]!
        let daysMustMatchBoth =
            dayOfMonthToken.text.first == "*" || raw[.dayOfWeek]!.text.first == "*"
        var expression = CronExpression(
            allowed: allowed, daysMustMatchBoth: daysMustMatchBoth,
            walksWallClock: tokens.count == 5 && raw[.minute]!.text.first != "*" && raw[.hour]!.text.first != "*")
        if allowed[Field.dayOfWeek.rawValue] & (1 << 7) != 0 {
            expression.allowed[Field.dayOfWeek.rawValue] |= 1
            expression.allowed[Field.dayOfWeek.rawValue] &= ~(1 << 7)
        }
        // cronsim's check: days that no allowed month has can never fire when both day fields must match.
        let firstDay = allowed[Field.dayOfMonth.rawValue].trailingZeroBitCount
        let longestMonth =
            (1...12).filter { expression.allows(.month, $0) }
            .map { $0 == 2 ? 29 : LocalCalendar.daysInMonth(year: 2001, month: $0) }.max() ?? 31
        if daysMustMatchBoth, firstDay > 29, firstDay > longestMonth {
            let context = FieldContext(field: .dayOfMonth, number: roles.firstIndex(of: .dayOfMonth)! + 1)
            throw context.error(
                "day \(firstDay) never occurs in the months of the month field", at: dayOfMonthToken.offset)
        }
        return expression
    }

    /// Parses one field: a comma-separated list of `*`, values, ranges, each with an optional `/step`.
    private static func parseField(_ token: Token, _ context: FieldContext) throws(ScheduleError) -> UInt64 {
        var bits: UInt64 = 0
        for item in split(token.text, at: { $0 == "," }, offset: token.offset, keepEmpty: true) {
            for value in try parseItem(item, context) { bits |= 1 << UInt64(value) }
        }
        return bits
    }

    /// The values of one list item, as `cronsim` expands them (steps count from the start of the range).
    private static func parseItem(_ item: Token, _ context: FieldContext) throws(ScheduleError) -> [Int] {
        guard !item.text.isEmpty else { throw context.error("empty list item", at: item.offset) }
        let range = context.field.range
        guard let slash = item.text.firstIndex(of: "/") else { return try parseRange(item, context) }
        let term = Token(text: Array(item.text[..<slash]), offset: item.offset)
        let stepToken = Token(text: Array(item.text[(slash + 1)...]), offset: item.offset + slash + 1)
        guard !stepToken.text.isEmpty, stepToken.text.allSatisfy(\.isASCIIDigit) else {
            throw context.error("the step after '/' must be a positive number", at: stepToken.offset)
        }
        let step = number(stepToken.text)
        guard step > 0 else { throw context.error("the step must not be 0", at: stepToken.offset) }
        guard !term.text.isEmpty else { throw context.error("a value or '*' must come before '/'", at: item.offset) }
        let values = try parseRange(term, context)
        if values.count == 1, !term.text.contains("-") {
            // `5/15` means 5, 20, 35, … up to the end of the field's range.
            return Array(stride(from: values[0], through: range.upperBound, by: step))
        }
        return stride(from: 0, to: values.count, by: step).map { values[$0] }
    }

    /// `*`, a value or `low-high`, in ascending order.
    private static func parseRange(_ item: Token, _ context: FieldContext) throws(ScheduleError) -> [Int] {
        if item.text == ["*"] { return Array(context.field.range) }
        guard let dash = item.text.firstIndex(of: "-") else { return [try parseValue(item, context)] }
        let low = try parseValue(Token(text: Array(item.text[..<dash]), offset: item.offset), context)
        let high = try parseValue(
            Token(text: Array(item.text[(dash + 1)...]), offset: item.offset + dash + 1), context)
        guard low <= high else {
            throw context.error("the range \(item.string) is reversed (\(low) > \(high))", at: item.offset)
        }
        return Array(low...high)
    }

    private static func parseValue(_ token: Token, _ context: FieldContext) throws(ScheduleError) -> Int {
        let field = context.field
        if let index = field.names.firstIndex(of: token.string.uppercased()) { return index + field.firstNameValue }
        let range = field.range
        let expected =
            field.names.isEmpty
            ? "a number \(range.lowerBound)-\(range.upperBound)"
            : "a number \(range.lowerBound)-\(range.upperBound) or a name \(field.names.first!)-\(field.names.last!)"
        guard !token.text.isEmpty else { throw context.error("missing value: expected \(expected)", at: token.offset) }
        if let bad = token.text.firstIndex(where: { !$0.isASCIIDigit }) {
            let character = token.text[bad]
            let what =
                "*?LW#".contains(character)
                ? "'\(character)' is not supported here (plain Vixie cron syntax only)"
                : "'\(token.string)' is not valid"
            throw context.error("\(what): expected \(expected)", at: token.offset + bad)
        }
        let value = number(token.text)
        guard range.contains(value) else {
            throw context.error(
                "\(token.string) is out of range \(range.lowerBound)-\(range.upperBound)",
                at: token.offset)
        }
        return value
    }

    /// Decimal digits as a number, saturating far above any field's range.
    private static func number(_ digits: [Character]) -> Int {
        digits.reduce(0) { min($0 * 10 + ($1.wholeNumberValue ?? 0), 1_000_000) }
    }

    /// Splits characters at separators, keeping each piece's offset.
    private static func split(
        _ characters: [Character], at isSeparator: (Character) -> Bool, offset base: Int = 0, keepEmpty: Bool = false
    ) -> [Token] {
        var tokens: [Token] = []
        var current: [Character] = []
        var start = 0
        for (index, character) in characters.enumerated() {
            if isSeparator(character) {
                if keepEmpty || !current.isEmpty { tokens.append(Token(text: current, offset: base + start)) }
                current = []
                start = index + 1
            } else {
                if current.isEmpty { start = index }
                current.append(character)
            }
        }
        if keepEmpty || !current.isEmpty { tokens.append(Token(text: current, offset: base + start)) }
        return tokens
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
