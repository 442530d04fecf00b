import AgentplaneCore
import Testing

@Suite struct CronParsingTests {
    /// Every refusal names `/schedule_expr`, the field (counted from 1 as written), the offset and the problem.
    @Test(
        arguments: [
            ("", "is empty", nil),
            ("* * * *", "has 4 fields (it ends at offset 7)", 7),
            ("* * * * * * *", "has 7 fields (field 7 starts at offset 12)", 12),
            ("60 * * * *", "field 1 (minute) at offset 0: 60 is out of range 0-59", 0),
            ("0 24 * * *", "field 2 (hour) at offset 2: 24 is out of range 0-23", 2),
            ("0 0 0 * *", "field 3 (day-of-month) at offset 4: 0 is out of range 1-31", 4),
            ("0 0 1,32 * *", "field 3 (day-of-month) at offset 6: 32 is out of range 1-31", 6),
            ("0 0 * 13 *", "field 4 (month) at offset 6: 13 is out of range 1-12", 6),
            ("0 0 * * 8", "field 5 (day-of-week) at offset 8: 8 is out of range 0-7", 8),
            ("*/0 * * * *", "field 1 (minute) at offset 2: the step must not be 0", 2),
            ("*/x * * * *", "field 1 (minute) at offset 2: the step after '/' must be a positive number", 2),
            ("/5 * * * *", "field 1 (minute) at offset 0: a value or '*' must come before '/'", 0),
            ("5-1 * * * *", "field 1 (minute) at offset 0: the range 5-1 is reversed (5 > 1)", 0),
            ("0 0 * * MON-SUN", "field 5 (day-of-week) at offset 8: the range MON-SUN is reversed (1 > 0)", 8),
            ("1,,2 * * * *", "field 1 (minute) at offset 2: empty list item", 2),
            ("0 0 1, * *", "field 3 (day-of-month) at offset 6: empty list item", 6),
            ("0 0-", "has 2 fields", 4),
            ("0 1- * * *", "field 2 (hour) at offset 4: missing value", 4),
            ("0 0 * JANUARY *", "field 4 (month) at offset 6: 'JANUARY' is not valid", 6),
            ("0 0 L * *", "field 3 (day-of-month) at offset 4: 'L' is not supported", 4),
            ("0 0 * * 5#2", "field 5 (day-of-week) at offset 9: '#' is not supported", 9),
            ("0 0 ? * *", "field 3 (day-of-month) at offset 4: '?' is not supported", 4),
            ("0 0 31 2 *", "field 3 (day-of-month) at offset 4: day 31 never occurs in the months", 4),
            ("0 0 31 4,6,9,11 *", "field 3 (day-of-month) at offset 4: day 31 never occurs", 4),
            ("0 0 30 2 *", "field 3 (day-of-month) at offset 4: day 30 never occurs", 4),
            ("60 0 0 * * *", "field 1 (second) at offset 0: 60 is out of range 0-59", 0),
            ("0 60 0 * * *", "field 2 (minute) at offset 2: 60 is out of range 0-59", 2),
            ("0  0  0  0  *  *", "field 4 (day-of-month) at offset 9: 0 is out of range 1-31", 9),
            ("@reboot", "unknown macro @reboot at offset 0", 0),
            ("@daily 5", "a macro stands alone, but more text follows at offset 7", 7),
        ] as [(String, String, Int?)])
    func refusesNamingThePosition(expression: String, message: String, offset: Int?) throws {
        let error = try #require(try ScheduleTesting.refusal(.cron, expression))
        #expect(error.pointer == "/schedule_expr")
        #expect(error.message.contains(message), "\(error.message)")
        #expect(error.offset == offset)
        #expect(error.validationError.code == .validationFailed)
        #expect(error.validationError.fieldErrors == [error.fieldError])
    }

    /// Names in any case, 7 for Sunday, steps from a start, and the macros equal their 5-field expansions.
    @Test(arguments: [
        ("0 9 * JAN-MAR MON-FRI", "0 9 * 1-3 1-5"),
        ("0 9 * jan,Jun sun", "0 9 * 1,6 0"),
        ("0 9 * * 7", "0 9 * * 0"),
        ("0 9 * * SAT-7", "0 9 * * 6,0"),
        ("*/15 * * * *", "0,15,30,45 * * * *"),
        ("1-30/10 * * * *", "1,11,21 * * * *"),
        ("5/20 * * * *", "5,25,45 * * * *"),
        ("0 */7 * * *", "0 0,7,14,21 * * *"),
        ("0 0 * */4 *", "0 0 * 1,5,9 *"),
        ("0 0 * * 1-7/2", "0 0 * * 1,3,5,0"),
        ("0 0 * * */3", "0 0 * * 0,3,6"),
        ("0 0 * * 0-7/7", "0 0 * * 0"),
        ("0 0 1 * MON/2", "0 0 1 * 1,3,5,0"),
        ("@yearly", "0 0 1 1 *"),
        ("@ANNUALLY", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@Daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
        ("0 0 12 * * *", "0 12 * * *"),
    ])
    func equivalentSpellingsFireAlike(expression: String, equivalent: String) throws {
        let start = "2026-03-20T00:00:00+01:00"
        let times = try ScheduleTesting.fireTimes(.cron, expression, zone: "Europe/Berlin", start: start, count: 40)
        let expected = try ScheduleTesting.fireTimes(.cron, equivalent, zone: "Europe/Berlin", start: start, count: 40)
        #expect(times.count == 40)
        #expect(times == expected)
    }
}
