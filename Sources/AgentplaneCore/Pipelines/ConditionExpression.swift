/// A boolean condition over JSON, parsed once and evaluated many times; it never evaluates code.
///
/// Used by a pipeline step's `if` (over `steps`, `event`, `task`, `instance`) and by a `condition` task's
/// `when` (over `result`). The language:
/// - **Logic**: `or`, `and`, `not` (also written `||`, `&&`, `!`), lowest to highest precedence, so
///   `a or b and c` means `a or (b and c)` and `not a == b` means `not (a == b)`; parentheses group.
/// - **Comparisons**: `==`, `!=`, `<`, `<=`, `>`, `>=` between two operands; they do not chain (`a < b < c`
///   is refused: write `a < b and b < c`).
/// - **Literals**: numbers (`42`, `-1.5`, `2e3`), strings in 'single' or "double" quotes (a backslash escapes
///   `\\`, `\'`, `\"`; `\n` and `\t` are a newline and a tab), `true`, `false`, `null`.
/// - **Paths**: dot-separated segments from the root, e.g. `steps.fetch.status` or `result.json.items.0.temp`.
///   The first segment is an identifier (`[A-Za-z_][A-Za-z0-9_-]*`, not a keyword); later segments are runs
///   of `[A-Za-z0-9_-]`. A segment is an object key, or on an array a decimal index. Keys with other
///   characters (spaces, dots) cannot be reached. A missing path is `null`.
/// - **Functions**: `exists(path)` (present, even if null), `contains(path, literal)` (a string contains the
///   literal string, or an array has an element equal to the literal), `len(path)` (characters of a string,
///   elements of an array, members of an object; `null` otherwise).
/// - **Truthiness**: an operand in boolean position (`steps.check.ok`, `not result.items`) is true unless it is
///   `null`, `false`, `0`, `""`, `[]` or `{}`.
/// - **Comparison rules**: `==` is structural; numbers compare by value (`1 == 1.0`) and values of different
///   types are unequal (`1 == "1"` is false). `<`, `<=`, `>`, `>=` compare two numbers numerically or two
///   strings by Unicode code point, and are false for any other pair (so `null < 1` and `"a" < 1` are false).
/// - **Limits**: at most 1000 characters and 32 levels of nesting (parentheses and `not`).
public struct ConditionExpression: Sendable, Hashable, CustomStringConvertible {
    /// The longest expression accepted, in characters.
    public static let maximumLength = 1000
    /// The deepest nesting of parentheses and `not` accepted.
    public static let maximumDepth = 32

    /// The expression as written.
    public let text: String
    let root: Node

    /// A comparison operator.
    enum Comparison: String, Sendable, Hashable {
        case equal = "=="
        case notEqual = "!="
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
    }

    /// A node of the parsed expression; `and` and `or` keep their operands flat.
    indirect enum Node: Sendable, Hashable {
        case literal(JSONValue)
        case path([String])
        case exists([String])
        case contains([String], JSONValue)
        case length([String])
        case not(Node)
        case and([Node])
        case or([Node])
        case compare(Node, Comparison, Node)
    }

    init(text: String, root: Node) {
        self.text = text
        self.root = root
    }

    /// The expression as written.
    public var description: String { text }

    /// Whether the condition holds for a root object (e.g. `{"steps": {...}, "event": {...}}`).
    public func evaluate(_ root: JSONValue) -> Bool {
        Self.isTruthy(Self.value(of: self.root, in: root))
    }

    /// Every path the expression reads (inside functions too), in the order written.
    public var paths: [[String]] {
        var found: [[String]] = []
        Self.collectPaths(root, into: &found)
        return found
    }

    private static func collectPaths(_ node: Node, into found: inout [[String]]) {
        switch node {
        case .literal: break
        case .path(let path), .exists(let path), .contains(let path, _), .length(let path): found.append(path)
        case .not(let inner): collectPaths(inner, into: &found)
        case .and(let nodes), .or(let nodes): for inner in nodes { collectPaths(inner, into: &found) }
        case .compare(let left, _, let right):
            collectPaths(left, into: &found)
            collectPaths(right, into: &found)
        }
    }

    private static func value(of node: Node, in root: JSONValue) -> JSONValue {
        switch node {
        case .literal(let value):
            return value
        case .path(let path):
            return root.value(at: path) ?? .null
        case .exists(let path):
            return .bool(root.value(at: path) != nil)
        case .contains(let path, let needle):
            return .bool(contains(root.value(at: path), needle))
        case .length(let path):
            switch root.value(at: path) {
            case .string(let text): return .int(Int64(text.count))
            case .array(let elements): return .int(Int64(elements.count))
            case .object(let members): return .int(Int64(members.count))
            default: return .null
            }
        case .not(let inner):
            return .bool(!isTruthy(value(of: inner, in: root)))
        case .and(let nodes):
            return .bool(nodes.allSatisfy { isTruthy(value(of: $0, in: root)) })
        case .or(let nodes):
            return .bool(nodes.contains { isTruthy(value(of: $0, in: root)) })
        case .compare(let left, let comparison, let right):
            return .bool(compare(value(of: left, in: root), comparison, value(of: right, in: root)))
        }
    }

    private static func contains(_ haystack: JSONValue?, _ needle: JSONValue) -> Bool {
        switch haystack {
        case .string(let text):
            guard case .string(let part) = needle else { return false }
            return part.isEmpty || text.contains(part)
        case .array(let elements):
            return elements.contains { $0.jsonEquals(needle) }
        default:
            return false
        }
    }

    static func compare(_ left: JSONValue, _ comparison: Comparison, _ right: JSONValue) -> Bool {
        switch comparison {
        case .equal: return left.jsonEquals(right)
        case .notEqual: return !left.jsonEquals(right)
        default: break
        }
        let order: Int
        if let leftNumber = left.numberValue, let rightNumber = right.numberValue {
            order = leftNumber < rightNumber ? -1 : (leftNumber > rightNumber ? 1 : 0)
        } else if case .string(let leftText) = left, case .string(let rightText) = right {
            let leftScalars = leftText.unicodeScalars.map(\.value)
            let rightScalars = rightText.unicodeScalars.map(\.value)
            order =
                leftScalars == rightScalars ? 0 : (leftScalars.lexicographicallyPrecedes(rightScalars) ? -1 : 1)
        } else {
            return false
        }
        switch comparison {
        case .less: return order < 0
        case .lessOrEqual: return order <= 0
        case .greater: return order > 0
        default: return order >= 0
        }
    }

    /// False for `null`, `false`, `0`, `""`, `[]` and `{}`; true for everything else.
    static func isTruthy(_ value: JSONValue) -> Bool {
        switch value {
        case .null: false
        case .bool(let flag): flag
        case .int(let number): number != 0
        case .double(let number): number != 0
        case .string(let text): !text.isEmpty
        case .array(let elements): !elements.isEmpty
        case .object(let members): !members.isEmpty
        }
    }
}

/// Why a condition expression was refused: the character offset (from 0) and the problem.
public struct ConditionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The character offset in the expression the message points at.
    public var offset: Int
    /// What is wrong, e.g. "expected an operand, found ')'".
    public var message: String

    /// Creates an error.
    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    /// `at offset N: message`.
    public var description: String { "at offset \(offset): \(message)" }
}
