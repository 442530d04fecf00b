import AgentplaneCore
import Foundation
import Testing

@Suite struct JSONSyntaxTests {
    @Test(arguments: [
        "{}", "[]", "0", "-0.5e+10", #""a\u00e9\n""#, "true", "null", #" {"a": [1, 2.5, {"b": null}], "c": "✓"} "#,
        "[[[[[]]]]]", "1E5", #"{"":""}"#,
    ])
    func acceptsValidDocuments(text: String) {
        #expect(JSONSyntax.firstError(in: Array(text.utf8)) == nil)
    }

    struct Invalid: Sendable, CustomTestStringConvertible {
        var text: String
        var line: Int
        var column: Int
        var testDescription: String { text }
    }

    @Test(arguments: [
        Invalid(text: #"{"a":1,}"#, line: 1, column: 8),
        Invalid(text: "[1,2,]", line: 1, column: 6),
        Invalid(text: "{\n  \"type\": tru }", line: 2, column: 11),
        Invalid(text: #"{"a" 1}"#, line: 1, column: 6),
        Invalid(text: "01", line: 1, column: 2),
        Invalid(text: "1.", line: 1, column: 3),
        Invalid(text: "\"tab\tinside\"", line: 1, column: 5),
        Invalid(text: #""\x""#, line: 1, column: 3),
        Invalid(text: "{} {}", line: 1, column: 4),
        Invalid(text: #"{"a":"#, line: 1, column: 6),
        Invalid(text: "", line: 1, column: 1),
        Invalid(text: "NaN", line: 1, column: 1),
        Invalid(text: "{'a': 1}", line: 1, column: 2),
    ])
    func reportsWhereDocumentsGoWrong(invalid: Invalid) throws {
        let failure = try #require(JSONSyntax.firstError(in: Array(invalid.text.utf8)))
        #expect(failure.line == invalid.line)
        #expect(failure.column == invalid.column)
    }

    @Test func refusesExcessiveNesting() {
        let levels = JSONSyntax.maximumDepth + 1
        let deep = String(repeating: "[", count: levels) + String(repeating: "]", count: levels)
        #expect(JSONSyntax.firstError(in: Array(deep.utf8))?.reason.contains("nesting") == true)
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(JSONSyntax.firstError(in: Array(fine.utf8)) == nil)
    }
}

@Suite struct JSONValueParsingTests {
    /// The fast parser the stores use agrees with Foundation's decoder on every kind of value.
    @Test(arguments: [
        #"{"a":[1,-2,3.5,1e3,-0.25E-2,true,false,null],"b":{"c":"d"},"":""}"#,
        #""esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00 ✓""#,
        "9223372036854775807", "-9223372036854775808", "18446744073709551616", "0.1", "[]", "{}", "[[[]]]",
        "1.0", "2.5e1", "-0.0", "1e300", "5e-324",
        #"{"unicode key ✓":"日本語"}"#,
    ])
    func agreesWithFoundation(text: String) throws {
        let expected = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(JSONValue(parsing: text) == expected)
    }

    @Test(arguments: ["", "{", "[1,]", #"{"a"}"#, "tru", #""\ud83d""#, "1 2", #""\x""#])
    func refusesWhatIsNotOneValue(text: String) {
        #expect(JSONValue(parsing: text) == nil)
    }
}
