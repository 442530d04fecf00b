import AgentplaneCore
import Testing

@Suite struct RecurrenceRuleParsingTests {
    /// Every refusal names `/schedule_expr`, the rule part, its character offset and the problem.
    @Test(
        arguments: [
            ("", "is empty", nil),
            ("BYHOUR=9", "FREQ is required", 0),
            ("FREQ=SECONDLY", "FREQ at offset 5: SECONDLY is not supported", 5),
            ("FREQ=FORTNIGHTLY", "FREQ at offset 5: 'FORTNIGHTLY' is not one of YEARLY", 5),
            (
                "FREQ=DAILY;COUNT=3;UNTIL=20260101T000000Z",
                "UNTIL at offset 19: COUNT and UNTIL must not be used together", 19
            ),
            (
                "FREQ=MONTHLY;BYSETPOS=0;BYDAY=MO",
                "BYSETPOS at offset 22: 0 is not allowed; use 1 to 366 or -366 to -1", 22
            ),
            ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1,367", "BYSETPOS at offset 33: 367 is out of range 1 to 366", 33),
            ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-367", "BYSETPOS at offset 31: -367 is out of range", 31),
            ("FREQ=WEEKLY;BYDAY=MO,1FR", "BYDAY at offset 21: an ordinal weekday such as 1MO needs FREQ=MONTHLY", 21),
            ("FREQ=MONTHLY;BYDAY=MO,1FR", "BYDAY at offset 22: mixing weekdays with and without an ordinal", 22),
            ("FREQ=MONTHLY;BYDAY=-6MO", "BYDAY at offset 19: ordinal -6 is out of range; use 1 to 5 or -5 to -1", 19),
            ("FREQ=YEARLY;BYMONTH=3;BYDAY=6SU", "BYDAY at offset 28: ordinal 6 is out of range; use 1 to 5", 28),
            ("FREQ=YEARLY;BYDAY=54MO", "BYDAY at offset 18: 54 is out of range 1 to 53", 18),
            ("FREQ=MONTHLY;BYDAY=0MO", "BYDAY at offset 19: 0 is not allowed", 19),
            ("FREQ=DAILY;BYDAY=XX", "BYDAY at offset 17: 'XX' is not a weekday", 17),
            ("FREQ=DAILY;BYHOUR=24", "BYHOUR at offset 18: 24 is out of range 0 to 23", 18),
            ("FREQ=DAILY;BYMINUTE=5,60", "BYMINUTE at offset 22: 60 is out of range 0 to 59", 22),
            ("FREQ=DAILY;BYSECOND=60", "BYSECOND at offset 20: 60 is out of range 0 to 59", 20),
            ("FREQ=DAILY;BYMONTH=13", "BYMONTH at offset 19: 13 is out of range 1 to 12", 19),
            ("FREQ=DAILY;BYMONTHDAY=0", "BYMONTHDAY at offset 22: 0 is not allowed; use 1 to 31 or -31 to -1", 22),
            ("FREQ=DAILY;BYMONTHDAY=-32", "BYMONTHDAY at offset 22: -32 is out of range", 22),
            ("FREQ=DAILY;BYHOUR=-1", "BYHOUR at offset 18: '-1' is not a whole number", 18),
            ("FREQ=DAILY;BYHOUR=1,,2", "BYHOUR at offset 20: an empty value", 20),
            ("FREQ=DAILY;INTERVAL=0", "INTERVAL at offset 20: 0 is out of range 1 to 10000", 20),
            ("FREQ=DAILY;INTERVAL=1,2", "INTERVAL at offset 11: takes one value, not a list", 11),
            ("FREQ=DAILY;COUNT=0", "COUNT at offset 17: 0 is out of range 1 to 10000", 17),
            ("FREQ=DAILY;UNTIL=2026", "UNTIL at offset 17: expected a date-time YYYYMMDDTHHMMSSZ", 17),
            ("FREQ=DAILY;UNTIL=20260230T000000Z", "UNTIL at offset 17: 20260230T000000Z is not a valid date-time", 17),
            ("FREQ=DAILY;WKST=XX", "WKST at offset 16: 'XX' is not a weekday", 16),
            ("FREQ=DAILY;FREQ=WEEKLY", "FREQ at offset 11: appears twice", 11),
            ("FREQ=DAILY;BYHOUR=", "BYHOUR at offset 11: has no value", 11),
            ("FREQ=DAILY;BYWEEKNO=1", "BYWEEKNO at offset 11: is not supported", 11),
            ("FREQ=DAILY;FOO=1", "unknown rule part 'FOO' at offset 11", 11),
            ("FREQ=DAILY;;BYHOUR=1", "an empty rule part at offset 11", 11),
            ("FREQ=DAILY;BYHOUR", "'BYHOUR' at offset 11: expected NAME=VALUE", 11),
            ("FREQ=DAILY; BYHOUR=1", "unexpected whitespace at offset 11", 11),
            // Found once the start (09:00 UTC) is known: dateutil refuses what the interval can never reach.
            ("FREQ=HOURLY;INTERVAL=2;BYHOUR=4,6", "BYHOUR at offset 23: no value is reachable from the start (9)", 23),
            ("FREQ=MINUTELY;INTERVAL=15;BYMINUTE=7", "BYMINUTE at offset 26: no value is reachable from the start", 26),
            ("FREQ=MINUTELY;INTERVAL=1440;BYHOUR=5", "BYHOUR at offset 28: no allowed hour is reachable", 28),
        ] as [(String, String, Int?)])
    func refusesNamingThePart(rule: String, message: String, offset: Int?) throws {
        let error = try #require(try ScheduleTesting.refusal(.rrule, rule))
        #expect(error.pointer == "/schedule_expr")
        #expect(error.message.contains(message), "\(error.message)")
        #expect(error.offset == offset)
    }

    /// Case, an `RRULE:` prefix, signs, the order of parts and reachable BYHOUR values are all fine.
    @Test(arguments: [
        "rrule:freq=weekly;byday=mo,we", "RRULE:FREQ=WEEKLY;BYDAY=MO,WE", "BYDAY=WE,MO;FREQ=WEEKLY",
        "FREQ=MONTHLY;BYMONTHDAY=+1,-1;BYSETPOS=+1", "FREQ=MONTHLY;BYDAY=+1MO,-1FR",
        "FREQ=HOURLY;INTERVAL=2;BYHOUR=1,3",
        "FREQ=MINUTELY;INTERVAL=1440;BYHOUR=9", "FREQ=DAILY;UNTIL=20300101T000000", " FREQ=DAILY ",
    ])
    func accepts(rule: String) throws {
        #expect(try ScheduleTesting.refusal(.rrule, rule) == nil)
    }
}
