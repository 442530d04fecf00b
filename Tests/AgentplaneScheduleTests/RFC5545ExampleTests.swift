import AgentplaneCore
import Testing

/// The recurrence examples of RFC 5545 §3.8.5.3, in America/New_York as the RFC writes them.
@Suite struct RFC5545ExampleTests {
    struct Example: Sendable, CustomTestStringConvertible {
        var rule: String
        /// DTSTART with its offset.
        var start: String
        /// Local wall times (`yyyy-MM-ddTHH:mm`): all of them, or the first ones when `total` is set.
        var times: [String]
        /// How many occurrences the rule has in all, when `times` lists only the first.
        var total: Int?
        var last: String?

        var testDescription: String { rule }
    }

    static let examples: [Example] = [
        Example(
            rule: "FREQ=DAILY;COUNT=10", start: "1997-09-02T09:00:00-04:00",
            times: (2...11).map { "1997-09-\($0 < 10 ? "0" : "")\($0)T09:00" }),
        Example(
            rule: "FREQ=DAILY;UNTIL=19971224T000000Z", start: "1997-09-02T09:00:00-04:00",
            times: ["1997-09-02T09:00", "1997-09-03T09:00"], total: 113, last: "1997-12-23T09:00"),
        Example(
            rule: "FREQ=DAILY;INTERVAL=10;COUNT=5", start: "1997-09-02T09:00:00-04:00",
            times: [
                "1997-09-02T09:00", "1997-09-12T09:00", "1997-09-22T09:00", "1997-10-02T09:00", "1997-10-12T09:00",
            ]),
        Example(
            rule: "FREQ=YEARLY;UNTIL=20000131T140000Z;BYMONTH=1;BYDAY=SU,MO,TU,WE,TH,FR,SA",
            start: "1998-01-01T09:00:00-05:00", times: ["1998-01-01T09:00"], total: 93, last: "2000-01-31T09:00"),
        Example(
            rule: "FREQ=DAILY;UNTIL=20000131T140000Z;BYMONTH=1", start: "1998-01-01T09:00:00-05:00",
            times: ["1998-01-01T09:00"], total: 93, last: "2000-01-31T09:00"),
        Example(
            rule: "FREQ=WEEKLY;UNTIL=19971007T000000Z;WKST=SU;BYDAY=TU,TH", start: "1997-09-02T09:00:00-04:00",
            times: [
                "1997-09-02T09:00", "1997-09-04T09:00", "1997-09-09T09:00", "1997-09-11T09:00", "1997-09-16T09:00",
                "1997-09-18T09:00", "1997-09-23T09:00", "1997-09-25T09:00", "1997-09-30T09:00", "1997-10-02T09:00",
            ]),
        Example(
            rule: "FREQ=WEEKLY;INTERVAL=2;UNTIL=19971224T000000Z;WKST=SU;BYDAY=MO,WE,FR",
            start: "1997-09-01T09:00:00-04:00", times: ["1997-09-01T09:00", "1997-09-03T09:00", "1997-09-05T09:00"],
            total: 25, last: "1997-12-22T09:00"),
        Example(
            rule: "FREQ=MONTHLY;COUNT=10;BYDAY=1FR", start: "1997-09-05T09:00:00-04:00",
            times: [
                "1997-09-05T09:00", "1997-10-03T09:00", "1997-11-07T09:00", "1997-12-05T09:00", "1998-01-02T09:00",
                "1998-02-06T09:00", "1998-03-06T09:00", "1998-04-03T09:00", "1998-05-01T09:00", "1998-06-05T09:00",
            ]),
        Example(
            rule: "FREQ=MONTHLY;INTERVAL=2;COUNT=10;BYDAY=1SU,-1SU", start: "1997-09-07T09:00:00-04:00",
            times: [
                "1997-09-07T09:00", "1997-09-28T09:00", "1997-11-02T09:00", "1997-11-30T09:00", "1998-01-04T09:00",
                "1998-01-25T09:00", "1998-03-01T09:00", "1998-03-29T09:00", "1998-05-03T09:00", "1998-05-31T09:00",
            ]),
        Example(
            rule: "FREQ=MONTHLY;COUNT=6;BYDAY=-2MO", start: "1997-09-22T09:00:00-04:00",
            times: [
                "1997-09-22T09:00", "1997-10-20T09:00", "1997-11-17T09:00", "1997-12-22T09:00", "1998-01-19T09:00",
                "1998-02-16T09:00",
            ]),
        Example(
            rule: "FREQ=MONTHLY;BYMONTHDAY=-3", start: "1997-09-28T09:00:00-04:00",
            times: [
                "1997-09-28T09:00", "1997-10-29T09:00", "1997-11-28T09:00", "1997-12-29T09:00", "1998-01-29T09:00",
                "1998-02-26T09:00",
            ], total: nil),
        Example(
            rule: "FREQ=MONTHLY;COUNT=10;BYMONTHDAY=1,-1", start: "1997-09-30T09:00:00-04:00",
            times: [
                "1997-09-30T09:00", "1997-10-01T09:00", "1997-10-31T09:00", "1997-11-01T09:00", "1997-11-30T09:00",
                "1997-12-01T09:00", "1997-12-31T09:00", "1998-01-01T09:00", "1998-01-31T09:00", "1998-02-01T09:00",
            ]),
        Example(
            rule: "FREQ=MONTHLY;INTERVAL=18;COUNT=10;BYMONTHDAY=10,11,12,13,14,15", start: "1997-09-10T09:00:00-04:00",
            times: [
                "1997-09-10T09:00", "1997-09-11T09:00", "1997-09-12T09:00", "1997-09-13T09:00", "1997-09-14T09:00",
                "1997-09-15T09:00", "1999-03-10T09:00", "1999-03-11T09:00", "1999-03-12T09:00", "1999-03-13T09:00",
            ]),
        Example(
            rule: "FREQ=YEARLY;INTERVAL=2;COUNT=10;BYMONTH=1,2,3", start: "1997-03-10T09:00:00-05:00",
            times: [
                "1997-03-10T09:00", "1999-01-10T09:00", "1999-02-10T09:00", "1999-03-10T09:00", "2001-01-10T09:00",
                "2001-02-10T09:00", "2001-03-10T09:00", "2003-01-10T09:00", "2003-02-10T09:00", "2003-03-10T09:00",
            ]),
        Example(
            rule: "FREQ=YEARLY;BYDAY=20MO", start: "1997-05-19T09:00:00-04:00",
            times: ["1997-05-19T09:00", "1998-05-18T09:00", "1999-05-17T09:00"]),
        Example(
            rule: "FREQ=YEARLY;BYMONTH=3;BYDAY=TH", start: "1997-03-13T09:00:00-05:00",
            times: [
                "1997-03-13T09:00", "1997-03-20T09:00", "1997-03-27T09:00", "1998-03-05T09:00", "1998-03-12T09:00",
                "1998-03-19T09:00", "1998-03-26T09:00", "1999-03-04T09:00", "1999-03-11T09:00", "1999-03-18T09:00",
                "1999-03-25T09:00",
            ]),
        // Friday the 13th (the RFC excludes DTSTART with EXDATE; a start that does not match never fires).
        Example(
            rule: "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13", start: "1997-09-02T09:00:00-04:00",
            times: [
                "1998-02-13T09:00", "1998-03-13T09:00", "1998-11-13T09:00", "1999-08-13T09:00", "2000-10-13T09:00",
            ]),
        Example(
            rule: "FREQ=MONTHLY;BYDAY=SA;BYMONTHDAY=7,8,9,10,11,12,13", start: "1997-09-13T09:00:00-04:00",
            times: [
                "1997-09-13T09:00", "1997-10-11T09:00", "1997-11-08T09:00", "1997-12-13T09:00", "1998-01-10T09:00",
                "1998-02-07T09:00", "1998-03-07T09:00", "1998-04-11T09:00", "1998-05-09T09:00", "1998-06-13T09:00",
            ]),
        Example(
            rule: "FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8",
            start: "1996-11-05T09:00:00-05:00", times: ["1996-11-05T09:00", "2000-11-07T09:00", "2004-11-02T09:00"]),
        Example(
            rule: "FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3", start: "1997-09-04T09:00:00-04:00",
            times: ["1997-09-04T09:00", "1997-10-07T09:00", "1997-11-06T09:00"]),
        Example(
            rule: "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2", start: "1997-09-29T09:00:00-04:00",
            times: [
                "1997-09-29T09:00", "1997-10-30T09:00", "1997-11-27T09:00", "1997-12-30T09:00", "1998-01-29T09:00",
                "1998-02-26T09:00", "1998-03-30T09:00",
            ]),
        // The RFC lists 15:00 too, but 15:00 EDT is 19:00Z, after UNTIL (a known erratum); dateutil agrees.
        Example(
            rule: "FREQ=HOURLY;INTERVAL=3;UNTIL=19970902T170000Z", start: "1997-09-02T09:00:00-04:00",
            times: ["1997-09-02T09:00", "1997-09-02T12:00"]),
        Example(
            rule: "FREQ=MINUTELY;INTERVAL=15;COUNT=6", start: "1997-09-02T09:00:00-04:00",
            times: [
                "1997-09-02T09:00", "1997-09-02T09:15", "1997-09-02T09:30", "1997-09-02T09:45", "1997-09-02T10:00",
                "1997-09-02T10:15",
            ]),
        Example(
            rule: "FREQ=MINUTELY;INTERVAL=90;COUNT=4", start: "1997-09-02T09:00:00-04:00",
            times: ["1997-09-02T09:00", "1997-09-02T10:30", "1997-09-02T12:00", "1997-09-02T13:30"]),
        Example(
            rule: "FREQ=DAILY;BYHOUR=9,10,11,12,13,14,15,16;BYMINUTE=0,20,40", start: "1997-09-02T09:00:00-04:00",
            times: ["1997-09-02T09:00", "1997-09-02T09:20", "1997-09-02T09:40", "1997-09-02T10:00"], total: nil),
        Example(
            rule: "FREQ=MINUTELY;INTERVAL=20;BYHOUR=9,10,11,12,13,14,15,16", start: "1997-09-02T09:00:00-04:00",
            times: ["1997-09-02T09:00", "1997-09-02T09:20", "1997-09-02T09:40", "1997-09-02T10:00"]),
        Example(
            rule: "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO", start: "1997-08-05T09:00:00-04:00",
            times: ["1997-08-05T09:00", "1997-08-10T09:00", "1997-08-19T09:00", "1997-08-24T09:00"]),
        Example(
            rule: "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU", start: "1997-08-05T09:00:00-04:00",
            times: ["1997-08-05T09:00", "1997-08-17T09:00", "1997-08-19T09:00", "1997-08-31T09:00"]),
        // An invalid date (February 30) is skipped, not moved.
        Example(
            rule: "FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=5", start: "2007-01-15T09:00:00-05:00",
            times: [
                "2007-01-15T09:00", "2007-01-30T09:00", "2007-02-15T09:00", "2007-03-15T09:00", "2007-03-30T09:00",
            ]),
    ]

    @Test(arguments: examples)
    func matchesTheRFC(example: Example) throws {
        let wanted = example.total ?? example.times.count
        let all = try ScheduleTesting.fireTimes(
            .rrule, example.rule, zone: "America/New_York", start: example.start, count: max(wanted, 200))
        let walls = all.map { String($0.prefix(16)) }
        #expect(Array(walls.prefix(example.times.count)) == example.times)
        if let total = example.total { #expect(walls.count == total) }
        if let last = example.last { #expect(walls.last == last) }
        if example.total == nil, example.rule.contains("COUNT") || example.rule.contains("UNTIL") {
            #expect(walls.count == example.times.count)
        }
    }
}
