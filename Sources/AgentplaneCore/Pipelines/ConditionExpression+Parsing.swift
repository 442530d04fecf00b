extension ConditionExpression {
    /// Parses an expression; the error names the character offset (from 0) and the problem.
    public static func parse(_ text: String) throws(ConditionError) -> ConditionExpression {
        let characters = Array(text)
        guard characters.count <= maximumLength else {
            throw ConditionError(offset: maximumLength, message: "is longer than \(maximumLength) characters")
        }
        var parser = try ConditionParser(characters)
        let root = try parser.parseOr()
        guard parser.token == .end else {
            throw parser.failure("expected 'and', 'or', a comparison or the end, found \(parser.token)")
        }
        return ConditionExpression(text: text, root: root)
    }
}

/// A recursive-descent parser with one token of lookahead; `depth` counts open parentheses and `not`s.
private struct ConditionParser {
    enum Token: Hashable, CustomStringConvertible {
        case literal(JSONValue)
        case path([String])
        case keyword(String)
        case symbol(String)
        case end

        var description: String {
            switch self {
            case .literal(let value): "\(JSONWriter.text(of: value))"
            case .path(let path): "'\(path.joined(separator: "."))'"
            case .keyword(let word), .symbol(let word): "'\(word)'"
            case .end: "the end"
            }
        }
    }

    static let keywords: Set<String> = ["and", "or", "not", "true", "false", "null", "exists", "contains", "len"]
    static let comparisons: Set<String> = ["==", "!=", "<", "<=", ">", ">="]

    let characters: [Character]
    var index = 0
    var depth = 0
    var token = Token.end
    var tokenOffset = 0

    init(_ characters: [Character]) throws(ConditionError) {
        self.characters = characters
        try advance()
    }

    func failure(_ message: String) -> ConditionError {
        ConditionError(offset: tokenOffset, message: message)
    }

    mutating func parseOr() throws(ConditionError) -> ConditionExpression.Node {
        var nodes = [try parseAnd()]
        while token == .keyword("or") || token == .symbol("||") {
            try advance()
            nodes.append(try parseAnd())
        }
        return nodes.count == 1 ? nodes[0] : .or(nodes)
    }

    private mutating func parseAnd() throws(ConditionError) -> ConditionExpression.Node {
        var nodes = [try parseNot()]
        while token == .keyword("and") || token == .symbol("&&") {
            try advance()
            nodes.append(try parseNot())
        }
        return nodes.count == 1 ? nodes[0] : .and(nodes)
    }

    private mutating func parseNot() throws(ConditionError) -> ConditionExpression.Node {
        guard token == .keyword("not") || token == .symbol("!") else { return try parseComparison() }
        try enter()
        try advance()
        let inner = try parseNot()
        depth -= 1
        return .not(inner)
    }

    private mutating func parseComparison() throws(ConditionError) -> ConditionExpression.Node {
        let left = try parseOperand()
        guard case .symbol(let symbol) = token, let comparison = ConditionExpression.Comparison(rawValue: symbol)
        else { return left }
        try advance()
        let right = try parseOperand()
        if case .symbol(let next) = token, Self.comparisons.contains(next) {
            throw failure("comparisons do not chain: join them with 'and'")
        }
        return .compare(left, comparison, right)
    }

    private mutating func parseOperand() throws(ConditionError) -> ConditionExpression.Node {
        switch token {
        case .symbol("("):
            try enter()
            try advance()
            let inner = try parseOr()
            try expect(")", "to close the '('")
            depth -= 1
            return inner
        case .literal(let value):
            try advance()
            return .literal(value)
        case .path(let path):
            try advance()
            return .path(path)
        case .keyword("exists"), .keyword("len"), .keyword("contains"):
            return try parseFunction()
        default:
            throw failure("expected a literal, a path, a function or '(', found \(token)")
        }
    }

    private mutating func parseFunction() throws(ConditionError) -> ConditionExpression.Node {
        guard case .keyword(let name) = token else { throw failure("expected a function") }
        try advance()
        try expect("(", "after \(name)")
        guard case .path(let path) = token else { throw failure("\(name) takes a path, found \(token)") }
        try advance()
        var node = ConditionExpression.Node.exists(path)
        switch name {
        case "len":
            node = .length(path)
        case "contains":
            try expect(",", "after the path of contains")
            guard case .literal(let needle) = token else {
                throw failure("contains takes a literal as its second argument, found \(token)")
            }
            try advance()
            node = .contains(path, needle)
        default:
            break
        }
        try expect(")", "to close \(name)(")
        return node
    }

    private mutating func enter() throws(ConditionError) {
        depth += 1
        guard depth <= ConditionExpression.maximumDepth else {
            throw failure("nests deeper than \(ConditionExpression.maximumDepth) levels")
        }
    }

    private mutating func expect(_ symbol: String, _ purpose: String) throws(ConditionError) {
        guard token == .symbol(symbol) else { throw failure("expected '\(symbol)' \(purpose), found \(token)") }
        try advance()
    }

    // MARK: Lexing

    private mutating func advance() throws(ConditionError) {
        while index < characters.count, characters[index].isWhitespace { index += 1 }
        tokenOffset = index
        guard index < characters.count else {
            token = .end
            return
        }
        let character = characters[index]
        if character == "'" || character == "\"" {
            token = .literal(.string(try lexString(quote: character)))
        } else if character.isNumber && character.isASCII || character == "-" {
            token = .literal(try lexNumber())
        } else if Self.isIdentifierStart(character) {
            token = try lexWord()
        } else {
            token = .symbol(try lexSymbol())
        }
    }

    private mutating func lexSymbol() throws(ConditionError) -> String {
        let pair = index + 1 < characters.count ? String([characters[index], characters[index + 1]]) : ""
        if ["==", "!=", "<=", ">=", "&&", "||"].contains(pair) {
            index += 2
            return pair
        }
        let single = String(characters[index])
        guard ["<", ">", "!", "(", ")", ","].contains(single) else {
            if single == "=" { throw failure("'=' is not an operator: write '==' to compare") }
            throw failure("unexpected character '\(single)'")
        }
        index += 1
        return single
    }

    private mutating func lexString(quote: Character) throws(ConditionError) -> String {
        var text = ""
        index += 1
        while index < characters.count {
            let character = characters[index]
            index += 1
            if character == quote { return text }
            guard character == "\\" else {
                text.append(character)
                continue
            }
            guard index < characters.count else { break }
            switch characters[index] {
            case "\\", "'", "\"": text.append(characters[index])
            case "n": text.append("\n")
            case "t": text.append("\t")
            default:
                throw ConditionError(offset: index - 1, message: "unknown escape '\\\(characters[index])'")
            }
            index += 1
        }
        throw failure("unterminated string: add the closing \(quote)")
    }

    private mutating func lexNumber() throws(ConditionError) -> JSONValue {
        let start = index
        if characters[index] == "-" { index += 1 }
        guard digits() > 0 else { throw failure("'-' must be followed by a number") }
        var integral = true
        if index + 1 < characters.count, characters[index] == ".", Self.isDigit(characters[index + 1]) {
            index += 1
            _ = digits()
            integral = false
        }
        if index < characters.count, characters[index] == "e" || characters[index] == "E" {
            index += 1
            if index < characters.count, characters[index] == "+" || characters[index] == "-" { index += 1 }
            guard digits() > 0 else { throw failure("the exponent of a number needs digits") }
            integral = false
        }
        let text = String(characters[start..<index])
        if integral, let number = Int64(text) { return .int(number) }
        guard let number = Double(text), number.isFinite else { throw failure("\(text) is not a finite number") }
        return .double(number)
    }

    private mutating func digits() -> Int {
        let start = index
        while index < characters.count, Self.isDigit(characters[index]) { index += 1 }
        return index - start
    }

    private mutating func lexWord() throws(ConditionError) -> Token {
        var segments = [segment()]
        while index < characters.count, characters[index] == "." {
            index += 1
            let next = segment()
            guard !next.isEmpty else {
                throw ConditionError(offset: index, message: "expected a path segment after '.'")
            }
            segments.append(next)
        }
        guard Self.keywords.contains(segments[0]) else { return .path(segments) }
        guard segments.count == 1 else {
            throw failure("'\(segments[0])' is a keyword and cannot start a path")
        }
        switch segments[0] {
        case "true": return .literal(.bool(true))
        case "false": return .literal(.bool(false))
        case "null": return .literal(.null)
        default: return .keyword(segments[0])
        }
    }

    private mutating func segment() -> String {
        let start = index
        while index < characters.count, Self.isSegmentCharacter(characters[index]) { index += 1 }
        return String(characters[start..<index])
    }

    static func isIdentifierStart(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character == "_")
    }

    static func isSegmentCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "_" || character == "-")
    }

    static func isDigit(_ character: Character) -> Bool {
        character.isASCII && character.isNumber
    }
}
