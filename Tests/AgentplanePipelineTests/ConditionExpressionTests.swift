import AgentplaneCore
import Testing

@Suite struct ConditionExpressionTests {
    static let root: JSONValue = [
        "steps": [
            "fetch": [
                "status": .int(200), "ok": .bool(true), "body": "hello world", "empty": "",
                "items": .array([["temp": .double(21.5)], ["temp": .int(30)]]),
                "tags": .array(["a", "b", .int(3)]), "none": .null, "zero": .int(0), "nested": ["k": "v"],
            ]
        ],
        "event": ["data": ["amount": .int(150), "currency": "EUR"]],
    ]

    /// Each expression against `root`, with the answer it must give.
    @Test(
        arguments: [
            ("steps.fetch.status == 200", true),
            ("steps.fetch.status == 200.0", true),
            ("steps.fetch.status != 200", false),
            ("steps.fetch.status == '200'", false),
            ("steps.fetch.status < '300'", false),
            ("steps.fetch.status >= 200 and steps.fetch.status < 300", true),
            ("steps.fetch.items.0.temp < steps.fetch.items.1.temp", true),
            ("steps.fetch.items.1.temp > 29.9", true),
            ("steps.fetch.items.2.temp == null", true),
            ("steps.missing.anything == null", true),
            ("steps.missing.anything", false),
            ("not steps.missing", true),
            ("steps.fetch.none < 1", false),
            ("steps.fetch.none >= steps.fetch.none", false),
            ("null == null", true),
            ("'abc' < 'abd'", true),
            ("'B' < 'a'", true),
            ("\"x\" == 'x'", true),
            ("event.data.amount > 100 && event.data.currency == 'EUR'", true),
            ("event.data.amount > 1000 || event.data.currency == \"USD\"", false),
            ("steps.fetch.ok", true),
            ("!steps.fetch.ok", false),
            ("steps.fetch.zero", false),
            ("steps.fetch.empty", false),
            ("steps.fetch.body", true),
            ("steps.fetch.nested", true),
            ("steps.fetch.ok == true", true),
            ("exists(steps.fetch.none)", true),
            ("exists(steps.fetch.absent)", false),
            ("contains(steps.fetch.body, 'lo wo')", true),
            ("contains(steps.fetch.body, 'bye')", false),
            ("contains(steps.fetch.tags, 'b')", true),
            ("contains(steps.fetch.tags, 3.0)", true),
            ("contains(steps.fetch.tags, 'c')", false),
            ("contains(steps.fetch.status, 200)", false),
            ("len(steps.fetch.items) == 2", true),
            ("len(steps.fetch.body) == 11", true),
            ("len(steps.fetch.nested) == 1", true),
            ("len(steps.fetch.status) == null", true),
            ("-1.5e0 < 0", true),
            // Precedence: `and` binds tighter than `or`; `not` covers a whole comparison.
            ("true or false and false", true),
            ("(true or false) and false", false),
            ("false and false or true", true),
            ("not steps.fetch.status == 404", true),
            ("not not true", true),
            ("(steps.fetch.status == 200) == true", true),
        ] as [(String, Bool)])
    func evaluates(expression: String, expected: Bool) throws {
        let condition = try ConditionExpression.parse(expression)
        #expect(condition.evaluate(Self.root) == expected, "\(expression)")
    }

    /// Each refusal names the offset and the problem.
    @Test(
        arguments: [
            ("", 0, "expected a literal, a path, a function or '('"),
            ("a ==", 4, "expected a literal, a path, a function or '(', found the end"),
            ("a = 1", 2, "'=' is not an operator"),
            ("(a == 1", 7, "expected ')' to close the '('"),
            ("a == 1)", 6, "found ')'"),
            ("1 < 2 < 3", 6, "comparisons do not chain"),
            ("a == 'open", 5, "unterminated string"),
            ("a == 'x\\q'", 7, "unknown escape"),
            ("a.", 2, "expected a path segment after '.'"),
            ("a..b", 2, "expected a path segment after '.'"),
            ("len.x > 1", 0, "'len' is a keyword"),
            ("exists(1)", 7, "exists takes a path"),
            ("exists a", 7, "expected '(' after exists"),
            ("contains(a, b)", 12, "contains takes a literal"),
            ("a $ b", 2, "unexpected character '$'"),
            ("- 1", 0, "'-' must be followed by a number"),
            ("1e", 0, "the exponent of a number needs digits"),
            ("a b", 2, "expected 'and', 'or', a comparison or the end, found 'b'"),
            ("and", 0, "found 'and'"),
        ] as [(String, Int, String)])
    func refuses(expression: String, offset: Int, message: String) {
        #expect(throws: ConditionError.self) { try ConditionExpression.parse(expression) }
        do {
            _ = try ConditionExpression.parse(expression)
        } catch {
            #expect(error.offset == offset, "\(expression): \(error)")
            #expect(error.message.contains(message), "\(expression): \(error)")
        }
    }

    @Test func nestingIsLimitedTo32Levels() throws {
        let deep = String(repeating: "(", count: 32) + "true" + String(repeating: ")", count: 32)
        #expect(try ConditionExpression.parse(deep).evaluate(.null))
        let tooDeep = "(" + deep + ")"
        let error = try #require(refusal(tooDeep))
        #expect(error.message.contains("nests deeper than 32 levels"))
        #expect(error.offset == 32)
        let nots = String(repeating: "not ", count: 33) + "true"
        #expect(refusal(nots)?.message.contains("nests deeper than 32") == true)
        #expect(try ConditionExpression.parse(String(repeating: "not ", count: 32) + "true").evaluate(.null))
    }

    @Test func lengthIsLimitedTo1000Characters() throws {
        let longest = "a == '" + String(repeating: "x", count: 993) + "'"
        #expect(longest.count == 1000)
        _ = try ConditionExpression.parse(longest)
        #expect(refusal(longest + " ")?.message.contains("longer than 1000 characters") == true)
    }

    @Test func listsEveryPathInOrder() throws {
        let condition = try ConditionExpression.parse(
            "steps.a.x == 1 and (exists(event.id) or not contains(task.tags, 'x')) and len(steps.b.items.0) > steps.c")
        #expect(
            condition.paths == [
                ["steps", "a", "x"], ["event", "id"], ["task", "tags"], ["steps", "b", "items", "0"], ["steps", "c"],
            ])
        #expect(condition.text.hasPrefix("steps.a.x == 1"))
    }

    @Test func numericSegmentsReadObjectKeysToo() throws {
        let condition = try ConditionExpression.parse("result.codes.200 == 'ok' and result.list.01 == null")
        #expect(condition.evaluate(["result": ["codes": ["200": "ok"], "list": .array(["a", "b"])]]))
    }

    private func refusal(_ text: String) -> ConditionError? {
        do {
            _ = try ConditionExpression.parse(text)
            return nil
        } catch {
            return error
        }
    }
}
