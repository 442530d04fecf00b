import AgentplaneCore
import Testing

@Suite struct RecurrenceRuleTests {
    @Test(arguments: [
        // The last weekday of the month.
        (
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "UTC", "2026-01-01T09:00:00Z",
            [
                "2026-01-30T09:00:00Z", "2026-02-27T09:00:00Z", "2026-03-31T09:00:00Z", "2026-04-30T09:00:00Z",
                "2026-05-29T09:00:00Z", "2026-06-30T09:00:00Z",
            ]
        ),
        // The first and last of several times of day.
        (
            "FREQ=DAILY;BYHOUR=8,12,18;BYSETPOS=1,-1;COUNT=4", "UTC", "2026-01-01T00:00:00Z",
            ["2026-01-01T08:00:00Z", "2026-01-01T18:00:00Z", "2026-01-02T08:00:00Z", "2026-01-02T18:00:00Z"]
        ),
        // The last day of the month, and the third-to-last.
        (
            "FREQ=MONTHLY;BYMONTHDAY=-1", "UTC", "2026-01-01T09:00:00Z",
            ["2026-01-31T09:00:00Z", "2026-02-28T09:00:00Z", "2026-03-31T09:00:00Z", "2026-04-30T09:00:00Z"]
        ),
        (
            "FREQ=MONTHLY;BYMONTHDAY=-3;BYHOUR=6;BYMINUTE=0", "UTC", "2028-01-01T09:00:00Z",
            ["2028-01-29T06:00:00Z", "2028-02-27T06:00:00Z", "2028-03-29T06:00:00Z"]
        ),
        // The last Friday of the month at 17:00, across the spring transition.
        (
            "FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=17;BYMINUTE=0", "Europe/Berlin", "2026-01-01T09:00:00+01:00",
            [
                "2026-01-30T17:00:00+01:00", "2026-02-27T17:00:00+01:00", "2026-03-27T17:00:00+01:00",
                "2026-04-24T17:00:00+02:00", "2026-05-29T17:00:00+02:00",
            ]
        ),
        // UNTIL in UTC is inclusive and compared as an instant; a local UNTIL on the zone's wall clock.
        (
            "FREQ=DAILY;UNTIL=20260103T090000Z", "UTC", "2026-01-01T09:00:00Z",
            ["2026-01-01T09:00:00Z", "2026-01-02T09:00:00Z", "2026-01-03T09:00:00Z"]
        ),
        (
            "FREQ=DAILY;UNTIL=20260103T080000Z", "Europe/Berlin", "2026-01-01T09:00:00+01:00",
            ["2026-01-01T09:00:00+01:00", "2026-01-02T09:00:00+01:00", "2026-01-03T09:00:00+01:00"]
        ),
        (
            "FREQ=DAILY;UNTIL=20260103T085959", "Europe/Berlin", "2026-01-01T09:00:00+01:00",
            ["2026-01-01T09:00:00+01:00", "2026-01-02T09:00:00+01:00"]
        ),
        ("FREQ=WEEKLY;COUNT=2", "UTC", "2026-01-01T09:00:00Z", ["2026-01-01T09:00:00Z", "2026-01-08T09:00:00Z"]),
        // Feb 29 that is a Monday: the search ends 100 local years after the start.
        (
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;COUNT=5", "UTC", "2026-01-01T09:00:00Z",
            ["2044-02-29T09:00:00Z", "2072-02-29T09:00:00Z", "2112-02-29T09:00:00Z"]
        ),
    ])
    func expands(rule: String, zone: String, start: String, expected: [String]) throws {
        let times = try ScheduleTesting.fireTimes(.rrule, rule, zone: zone, start: start, count: 10)
        #expect(Array(times.prefix(expected.count)) == expected)
        if rule.contains("COUNT") || rule.contains("UNTIL") { #expect(times.count == expected.count) }
    }

    /// COUNT counts from the start, whatever `after` asks.
    @Test func countIsCountedFromTheStart() throws {
        let schedule = try Schedule(
            kind: .rrule, expression: "FREQ=DAILY;COUNT=5", timeZone: "UTC",
            start: ScheduleTesting.instant("2026-01-01T09:00:00Z"))
        let times = schedule.nextFireTimes(after: try ScheduleTesting.instant("2026-01-03T12:00:00Z"), count: 10)
        #expect(times.map { ScheduleTesting.local($0, "UTC") } == ["2026-01-04T09:00:00Z", "2026-01-05T09:00:00Z"])
        #expect(schedule.next(after: try ScheduleTesting.instant("2026-01-05T09:00:00Z")) == nil)
    }

    /// Without COUNT, a question years after the start skips whole periods and lands on the same grid.
    @Test func farFromTheStartStaysOnTheIntervalGrid() throws {
        let start = try ScheduleTesting.instant("2020-01-01T00:00:00Z")
        let schedule = try Schedule(
            kind: .rrule, expression: "FREQ=MINUTELY;INTERVAL=7", timeZone: "UTC", start: start)
        let after = try ScheduleTesting.instant("2026-03-29T00:59:30Z")
        let times = schedule.nextFireTimes(after: after, count: 3)
        let step: Int64 = 7 * 60 * 1_000_000
        #expect(times.count == 3)
        for time in times { #expect((time.microsecondsSinceEpoch - start.microsecondsSinceEpoch) % step == 0) }
        #expect(times[0] > after)
        #expect(times[0].microsecondsSinceEpoch - after.microsecondsSinceEpoch <= step)
    }

    /// dateutil's DST rule (RFC 5545 §3.3.5): a time DST skips keeps the offset from before the gap; a repeated
    /// time is its first occurrence; two occurrences on one instant fire once.
    @Test(arguments: [
        (
            "FREQ=DAILY;BYHOUR=2;BYMINUTE=30", "Europe/Berlin", "2026-03-28T12:00:00+01:00", 2,
            ["2026-03-29T03:30:00+02:00", "2026-03-30T02:30:00+02:00"]
        ),
        (
            "FREQ=DAILY;BYHOUR=2;BYMINUTE=30", "Europe/Berlin", "2026-10-24T12:00:00+02:00", 2,
            ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]
        ),
        (
            "FREQ=DAILY;BYHOUR=2;BYMINUTE=15", "Australia/Lord_Howe", "2026-10-03T12:00:00+10:30", 2,
            ["2026-10-04T02:45:00+11:00", "2026-10-05T02:15:00+11:00"]
        ),
        (
            "FREQ=HOURLY", "America/New_York", "2026-11-01T00:00:00-04:00", 4,
            [
                "2026-11-01T00:00:00-04:00", "2026-11-01T01:00:00-04:00", "2026-11-01T02:00:00-05:00",
                "2026-11-01T03:00:00-05:00",
            ]
        ),
        (
            "FREQ=HOURLY", "America/New_York", "2026-03-08T00:00:00-05:00", 4,
            [
                "2026-03-08T00:00:00-05:00", "2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00",
                "2026-03-08T04:00:00-04:00",
            ]
        ),
        // 02:00 and 02:30 land on 03:00 and 03:30, before the 02:30 → 03:30 order is restored.
        (
            "FREQ=MINUTELY;INTERVAL=30", "Europe/Berlin", "2026-03-29T01:00:00+01:00", 5,
            [
                "2026-03-29T01:00:00+01:00", "2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00",
                "2026-03-29T03:30:00+02:00", "2026-03-29T04:00:00+02:00",
            ]
        ),
        (
            "FREQ=MINUTELY;INTERVAL=30", "Europe/Berlin", "2026-03-29T01:00:00+01:00", 3,
            ["2026-03-29T01:00:00+01:00", "2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00"]
        ),
        (
            "FREQ=DAILY;BYHOUR=2,3;BYMINUTE=30;COUNT=4", "Europe/Berlin", "2026-03-28T12:00:00+01:00", 4,
            ["2026-03-29T03:30:00+02:00", "2026-03-30T02:30:00+02:00", "2026-03-30T03:30:00+02:00"]
        ),
    ])
    func daylightSavingTime(rule: String, zone: String, start: String, count: Int, expected: [String]) throws {
        #expect(try ScheduleTesting.fireTimes(.rrule, rule, zone: zone, start: start, count: count) == expected)
    }

    /// Sparse or never-firing rules stay within the search horizon and answer quickly.
    @Test(arguments: [
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", 3), ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", 0),
        ("FREQ=MINUTELY;INTERVAL=5;BYMONTH=4;BYMONTHDAY=31", 0), ("FREQ=MONTHLY;COUNT=10000;BYMONTHDAY=31", 50),
    ])
    func sparseRulesAreBounded(rule: String, expected: Int) throws {
        let schedule = try Schedule(
            kind: .rrule, expression: rule, timeZone: "Europe/Berlin",
            start: ScheduleTesting.instant("2026-01-01T00:00:00Z"))
        let after = try ScheduleTesting.instant("2026-01-01T00:00:00Z")
        let clock = ContinuousClock()
        var times: [Timestamp] = []
        let elapsed = clock.measure { times = schedule.nextFireTimes(after: after, count: 50) }
        #expect(times.count == expected)
        // A bound on the search (a sparse rule must not scan without end), not a speed claim: generous enough
        // for a loaded CI machine.
        #expect(elapsed < .seconds(10), "took \(elapsed)")
    }
}
