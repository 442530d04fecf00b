import AgentplaneCore
import Testing

@Suite struct CronScheduleTests {
    /// Vixie cron's day rule: a field starting with `*` leaves the other to decide; two restricted fields OR.
    @Test(arguments: [
        // 1st of the month OR a Monday.
        ("0 0 1 * MON", ["2026-01-01", "2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26", "2026-02-01"]),
        // The 13th OR a Friday.
        ("0 0 13 * FRI", ["2026-01-02", "2026-01-09", "2026-01-13", "2026-01-16", "2026-01-23", "2026-01-30"]),
        // A `*` day-of-month: Mondays only.
        ("0 0 * * MON", ["2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26", "2026-02-02", "2026-02-09"]),
        // `*/1` starts with `*`: still Mondays only, although it lists every day.
        ("0 0 */1 * MON", ["2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26", "2026-02-02", "2026-02-09"]),
        // A `*` day-of-week: the 1st only.
        ("0 0 1 * *", ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01", "2026-05-01", "2026-06-01"]),
        // `*/10` day-of-month (1, 11, 21, 31) AND a Sunday.
        ("0 0 */10 * SUN", ["2026-01-11", "2026-02-01", "2026-03-01", "2026-05-31", "2026-06-21", "2026-10-11"]),
        // Leap days only.
        ("0 0 29 2 *", ["2028-02-29", "2032-02-29", "2036-02-29", "2040-02-29", "2044-02-29", "2048-02-29"]),
    ])
    func daysFollowVixieCron(expression: String, days: [String]) throws {
        let times = try ScheduleTesting.fireTimes(
            .cron, expression, zone: "UTC", start: "2026-01-01T00:00:00Z", count: 6)
        #expect(times == days.map { $0 + "T00:00:00Z" })
    }

    @Test func sixFieldsAddSeconds() throws {
        let times = try ScheduleTesting.fireTimes(
            .cron, "*/20 * * * * *", zone: "UTC", start: "2026-01-01T00:00:00Z", count: 4)
        #expect(
            times == ["2026-01-01T00:00:00Z", "2026-01-01T00:00:20Z", "2026-01-01T00:00:40Z", "2026-01-01T00:01:00Z"])
    }

    /// Fire times are strictly after `after` and at or after the start.
    @Test func firesAfterTheQuestionAndFromTheStart() throws {
        let schedule = try Schedule(
            kind: .cron, expression: "0 10 * * *", timeZone: "UTC",
            start: ScheduleTesting.instant("2026-05-01T10:00:00Z"))
        let early = try ScheduleTesting.instant("2026-01-01T00:00:00Z")
        #expect(schedule.next(after: early) == (try ScheduleTesting.instant("2026-05-01T10:00:00Z")))
        let atFire = try ScheduleTesting.instant("2026-05-02T10:00:00Z")
        #expect(schedule.next(after: atFire) == (try ScheduleTesting.instant("2026-05-03T10:00:00Z")))
        let justBefore = Timestamp(microsecondsSinceEpoch: atFire.microsecondsSinceEpoch - 1)
        #expect(schedule.next(after: justBefore) == atFire)
    }

    /// DST as Debian cron and cronsim handle it. A fixed local time DST skips fires right after the gap; a
    /// repeated one fires once, at its first occurrence. Jobs with a `*` minute or hour (or 6 fields) follow
    /// real time instead: a skipped time does not fire, a repeated one fires twice.
    @Test(arguments: [
        (
            "30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00+01:00",
            ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"]
        ),
        (
            "0 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00+01:00",
            ["2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00"]
        ),
        (
            "30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00+02:00",
            ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]
        ),
        (
            "30 2 * * *", "America/New_York", "2026-03-07T12:00:00-05:00",
            ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"]
        ),
        (
            "30 1 * * *", "America/New_York", "2026-10-31T12:00:00-04:00",
            ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]
        ),
        // Lord Howe Island moves its clocks by 30 minutes: 02:00 → 02:30 in October, 02:00 → 01:30 in April.
        (
            "15 2 * * *", "Australia/Lord_Howe", "2026-10-03T12:00:00+10:30",
            ["2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"]
        ),
        (
            "45 1 * * *", "Australia/Lord_Howe", "2026-04-04T12:00:00+11:00",
            ["2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"]
        ),
        // Real time: every 30 minutes straight through both transitions.
        (
            "*/30 * * * *", "Europe/Berlin", "2026-03-29T01:00:00+01:00",
            [
                "2026-03-29T01:00:00+01:00", "2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00",
                "2026-03-29T03:30:00+02:00",
            ]
        ),
        (
            "*/30 * * * *", "Europe/Berlin", "2026-10-25T02:00:00+02:00",
            [
                "2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T02:00:00+01:00",
                "2026-10-25T02:30:00+01:00",
            ]
        ),
        (
            "*/15 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00+01:00",
            ["2026-03-30T02:00:00+02:00", "2026-03-30T02:15:00+02:00"]
        ),
        (
            "0 30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00+01:00",
            ["2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00"]
        ),
        (
            "0 30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00+02:00",
            ["2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00"]
        ),
        // Hourly on Lord Howe: one real hour after 01:00 (+10:30) is 02:30 (+11:00), so the next :00 is 03:00.
        (
            "0 * * * *", "Australia/Lord_Howe", "2026-10-04T01:00:00+10:30",
            ["2026-10-04T01:00:00+10:30", "2026-10-04T03:00:00+11:00"]
        ),
        (
            "30 * * * *", "Australia/Lord_Howe", "2026-04-05T01:00:00+11:00",
            ["2026-04-05T01:30:00+11:00", "2026-04-05T02:30:00+10:30"]
        ),
    ])
    func daylightSavingTime(expression: String, zone: String, start: String, expected: [String]) throws {
        let times = try ScheduleTesting.fireTimes(.cron, expression, zone: zone, start: start, count: expected.count)
        #expect(times == expected)
    }

    /// Asked from inside a repeated hour, a fixed-time job does not fire that hour's first pass again.
    @Test func aRepeatedHourFiresOnceEvenWhenAskedFromItsSecondPass() throws {
        let schedule = try Schedule(
            kind: .cron, expression: "50 2 * * *", timeZone: "Europe/Berlin",
            start: ScheduleTesting.instant("2026-10-01T00:00:00Z"))
        let secondPass = try ScheduleTesting.instant("2026-10-25T02:40:00+01:00")
        let next = try #require(schedule.next(after: secondPass))
        #expect(ScheduleTesting.local(next, "Europe/Berlin") == "2026-10-26T02:50:00+01:00")
    }

    /// No minute-by-minute search: sparse expressions answer quickly.
    @Test(arguments: ["0 0 29 2 1", "0 0 29 2 *", "59 23 31 12 *", "0 0 */31 2 *"])
    func sparseExpressionsAreFast(expression: String) throws {
        let schedule = try Schedule(
            kind: .cron, expression: expression, timeZone: "Europe/Berlin",
            start: ScheduleTesting.instant("2026-01-01T00:00:00Z"))
        let clock = ContinuousClock()
        var times: [Timestamp] = []
        let elapsed = clock.measure {
            times = schedule.nextFireTimes(after: Timestamp(microsecondsSinceEpoch: 0), count: 200)
        }
        #expect(times.count == 200)
        #expect(elapsed < .milliseconds(200), "200 fire times took \(elapsed)")
    }
}
