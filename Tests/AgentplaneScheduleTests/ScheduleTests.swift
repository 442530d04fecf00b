import AgentplaneCore
import Testing

@Suite struct ScheduleTests {
    @Test(arguments: [
        ("2026-03-29T01:30:00Z", "2026-03-29T01:30:00Z"),
        ("2026-03-29T03:30:00.25+02:00", "2026-03-29T01:30:00.250000Z"),
        ("2026-03-29t01:30:00.123456789z", "2026-03-29T01:30:00.123456Z"),
    ])
    func onceFiresOnceAtItsInstant(expression: String, instant: String) throws {
        let schedule = try Schedule(
            kind: .once, expression: expression, timeZone: "Europe/Berlin",
            start: ScheduleTesting.instant("2026-01-01T00:00:00Z"))
        let fire = try ScheduleTesting.instant(instant)
        let before = Timestamp(microsecondsSinceEpoch: fire.microsecondsSinceEpoch - 1)
        #expect(schedule.nextFireTimes(after: before, count: 5) == [fire])
        #expect(schedule.next(after: fire) == nil)
        #expect(
            fire.rfc3339 == (instant.count == 20 ? instant.replacingOccurrences(of: "Z", with: ".000000Z") : instant))
    }

    @Test(arguments: ["tomorrow", "2026-03-29T01:30:00", "2026-03-29 01:30:00Z", "2026-02-30T00:00:00Z", ""])
    func onceRefusesAnythingButAnInstant(expression: String) throws {
        let error = try #require(try ScheduleTesting.refusal(.once, expression))
        #expect(error.pointer == "/schedule_expr")
        #expect(error.message.contains("RFC 3339"))
    }

    /// IANA names only: Foundation's abbreviations and offsets, and wrongly cased names, are refused.
    @Test(arguments: ["Mars/Olympus", "PST", "GMT+2", "UTC+1", "europe/berlin", "", "+02:00"])
    func refusesUnknownTimeZones(zone: String) throws {
        let error = try #require(try ScheduleTesting.refusal(.cron, "0 9 * * *", zone: zone))
        #expect(error.pointer == "/timezone")
        #expect(error.message.contains("'\(zone)'"))
        #expect(error.validationError.code == .validationFailed)
        #expect(error.validationError.detail.hasPrefix("/timezone: "))
    }

    @Test(arguments: ["UTC", "GMT", "Etc/UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "US/Eastern"])
    func acceptsIANANames(zone: String) throws {
        #expect(try ScheduleTesting.refusal(.cron, "0 9 * * *", zone: zone) == nil)
    }

    @Test func refusesUnknownKindsAndOverlongExpressions() throws {
        let start = try ScheduleTesting.instant("2026-01-01T00:00:00Z")
        for kind in ["event", "interval", "CRON"] {
            let error = #expect(throws: ScheduleError.self) {
                try Schedule(kind: kind, expression: "x", timeZone: "UTC", start: start)
            }
            #expect(error?.pointer == "/schedule_kind")
            #expect(error?.message == "must be one of cron, rrule, once")
        }
        let long = String(repeating: "1,", count: 600) + "1 * * * *"
        let error = try #require(try ScheduleTesting.refusal(.cron, long))
        #expect(error.message.contains("longer than 1000 characters"))
    }

    @Test func parsesKindsFromText() throws {
        let start = try ScheduleTesting.instant("2026-01-01T00:00:00Z")
        for kind in ScheduleKind.allCases {
            let expression = ["cron": "0 9 * * *", "rrule": "FREQ=DAILY", "once": "2026-02-01T00:00:00Z"][
                kind.rawValue]!
            let schedule = try Schedule(kind: kind.rawValue, expression: expression, timeZone: "UTC", start: start)
            #expect(schedule.kind == kind)
            #expect(schedule.expression == expression)
            #expect(schedule.timeZoneIdentifier == "UTC")
            #expect(schedule.start == start)
        }
    }

    /// `count` below 1 answers nothing; above the cap, the cap.
    @Test func countIsBounded() throws {
        let start = try ScheduleTesting.instant("2026-01-01T00:00:00Z")
        let schedule = try Schedule(kind: .cron, expression: "* * * * * *", timeZone: "UTC", start: start)
        #expect(schedule.nextFireTimes(after: start, count: 0).isEmpty)
        #expect(schedule.nextFireTimes(after: start, count: -3).isEmpty)
        let times = schedule.nextFireTimes(after: start, count: Schedule.maximumCount + 5)
        #expect(times.count == Schedule.maximumCount)
        #expect(times.first == Timestamp(microsecondsSinceEpoch: start.microsecondsSinceEpoch + 1_000_000))
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 < $1 })
    }

    /// The start's microseconds are dropped for an RRULE's DTSTART, as dateutil does.
    @Test func rruleStartIsTruncatedToTheSecond() throws {
        let schedule = try Schedule(
            kind: .rrule, expression: "FREQ=MINUTELY;INTERVAL=10;COUNT=2", timeZone: "UTC",
            start: ScheduleTesting.instant("2026-01-01T09:00:00.75Z"))
        let times = schedule.nextFireTimes(after: Timestamp(microsecondsSinceEpoch: 0), count: 5)
        #expect(times.map(\.rfc3339) == ["2026-01-01T09:00:00.000000Z", "2026-01-01T09:10:00.000000Z"])
    }
}
