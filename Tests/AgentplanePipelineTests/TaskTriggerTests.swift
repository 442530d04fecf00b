import AgentplaneCore
import Testing

@Suite struct TaskTriggerTests {
    static let start = Timestamp(rfc3339: "2026-03-20T00:00:00Z")!

    @Test func parsesEveryKind() throws {
        let cron = try TaskTrigger.parse(
            kind: "cron", expression: "0 9 * * *", timeZone: "Europe/Chisinau", start: Self.start)
        guard case .timed(let schedule) = cron else { throw Failure("not timed: \(cron)") }
        #expect(schedule.kind == .cron)
        #expect(cron.kind == .cron)
        let once = try TaskTrigger.parse(
            kind: "once", expression: "2026-04-01T08:00:00Z", timeZone: "UTC", start: Self.start)
        #expect(once.kind == .once)
        let event = try TaskTrigger.parse(kind: "event", expression: "order.*", timeZone: "UTC", start: Self.start)
        #expect(event == .event(try EventTrigger.parse("order.*")))
        let condition = try TaskTrigger.parse(
            kind: "condition",
            expression: #"{"every_seconds": 60, "source": {"uses": "http.request"}, "when": "result"}"#,
            timeZone: "UTC", start: Self.start)
        #expect(condition.kind == .condition)
        #expect(TaskScheduleKind.allCases.map(\.rawValue) == ["cron", "rrule", "once", "event", "condition"])
        #expect(TaskScheduleKind.event.scheduleKind == nil)
        #expect(TaskScheduleKind.rrule.scheduleKind == .rrule)
    }

    /// Kind, expression and time zone refusals, for every kind: the pointer and a message fragment.
    @Test(
        arguments: [
            ("hourly", "* * * * *", "UTC", "/schedule_kind", "must be one of cron, rrule, once, event, condition"),
            ("event", "order.*", "Mars/Base", "/timezone", "not an IANA time zone"),
            ("event", "order.*", "PST", "/timezone", "not an IANA time zone"),
            ("condition", "{}", "GMT+2", "/timezone", "not an IANA time zone"),
            ("cron", "0 9 * * *", "Nowhere/City", "/timezone", "not an IANA time zone"),
            ("event", nil, "UTC", "/schedule_expr", "is required for schedule_kind event"),
            ("condition", "", "UTC", "/schedule_expr", "is required for schedule_kind condition"),
            ("cron", nil, "UTC", "/schedule_expr", "is required for schedule_kind cron"),
            ("cron", "61 * * * *", "UTC", "/schedule_expr", "61 is out of range"),
        ] as [(String, String?, String, String, String)])
    func refuses(kind: String, expression: String?, zone: String, pointer: String, message: String) {
        do {
            let trigger = try TaskTrigger.parse(kind: kind, expression: expression, timeZone: zone, start: Self.start)
            Issue.record("parsed \(trigger)")
        } catch {
            #expect(error.pointer == pointer)
            #expect(error.message.contains(message), "\(error)")
        }
    }

    @Test func refusesAnOverlongExpression() {
        let long = #"{"type": "a", "filter": {"k": ""# + String(repeating: "x", count: 10_000) + #""}}"#
        #expect(throws: ScheduleError(pointer: "/schedule_expr", message: "is longer than 10000 characters")) {
            try TaskTrigger.parse(kind: "event", expression: long, timeZone: "UTC", start: Self.start)
        }
    }

    /// Event patterns: `*` spans any run of characters, dots included.
    @Test(
        arguments: [
            ("order.created", "order.created", true),
            ("order.created", "order.created.v2", false),
            ("order.created", "order.create", false),
            ("github.*", "github.push", true),
            ("github.*", "github.pull_request.opened", true),
            ("github.*", "github", false),
            ("github.*", "gitlab.push", false),
            ("*", "anything.at.all", true),
            ("*.failed", "run.failed", true),
            ("*.failed", "a.b.failed", true),
            ("*.failed", "run.failed.not", false),
            ("order.*.eu", "order.created.eu", true),
            ("order.*.eu", "order.created.us", false),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "abcb", false),
            ("**", "x", true),
        ] as [(String, String, Bool)])
    func matchesEventPatterns(pattern: String, type: String, matches: Bool) throws {
        #expect(try EventTrigger.parse(pattern).matches(type: type, data: .null) == matches)
    }

    /// The filter is a JSON subset of the event's data.
    @Test(
        arguments: [
            (#"{"amount": 100}"#, ["amount": .int(100), "x": "y"], true),
            (#"{"amount": 100}"#, ["amount": .double(100.0)], true),
            (#"{"amount": 100}"#, ["amount": .int(101)], false),
            (#"{"amount": 100}"#, ["amount": "100"], false),
            (#"{"amount": 100}"#, ["other": .int(100)], false),
            (#"{"amount": 100}"#, .null, false),
            (#"{"customer": {"tier": "gold"}}"#, ["customer": ["tier": "gold", "id": .int(7)]], true),
            (#"{"customer": {"tier": "gold"}}"#, ["customer": ["tier": "silver"]], false),
            (#"{"tags": ["a", "b"]}"#, ["tags": .array(["a", "b"])], true),
            (#"{"tags": ["a", "b"]}"#, ["tags": .array(["a", "b", "c"])], false),
            (#"{"note": null}"#, ["note": .null], true),
            (#"{"note": null}"#, [:], false),
            (#"{}"#, ["anything": .bool(true)], true),
        ] as [(String, JSONValue, Bool)])
    func matchesFilters(filter: String, data: JSONValue, matches: Bool) throws {
        let trigger = try EventTrigger.parse(#"{"type": "order.*", "filter": "# + filter + "}")
        #expect(trigger.matches(type: "order.paid", data: data) == matches)
        #expect(!trigger.matches(type: "invoice.paid", data: data))
    }

    /// Event expression refusals name the sub-field and, for a bare pattern or bad JSON, the offset.
    @Test(
        arguments: [
            ("Order.created", "pattern has 'O' at offset 0", 0),
            ("order created", "pattern has ' ' at offset 5", 5),
            (String(repeating: "a", count: 201), "pattern must be 1 to 200 characters", nil),
            (#"{"type": "order.*", "filter": [1]}"#, "filter must be a JSON object", nil),
            (#"{"filter": {}}"#, "type is required", nil),
            (#"{"type": "A"}"#, "type has 'A' at offset 0", nil),
            (#"{"type": "a", "match": {}}"#, "unknown key 'match' (use type, filter)", nil),
            (#"{"type": "a",}"#, "expected a string key at offset 13", 13),
        ] as [(String, String, Int?)])
    func refusesEventExpressions(expression: String, message: String, offset: Int?) {
        do {
            let trigger = try EventTrigger.parse(expression)
            Issue.record("parsed \(trigger)")
        } catch {
            #expect(error.pointer == "/schedule_expr")
            #expect(error.message.contains(message), "\(error)")
            #expect(error.offset == offset, "\(error)")
        }
    }

    @Test func conditionParsesItsSourceAndEvaluatesWhenOverResult() throws {
        let trigger = try ConditionTrigger.parse(
            #"{"every_seconds": 60, "source": {"uses": "http.request", "with": {"url": "https://x/${secrets.K}"}, "#
                + #""timeout_seconds": 5}, "when": "result.json.temp > 30 and len(result.json.alerts) > 0"}"#)
        #expect(trigger.everySeconds == 60)
        #expect(trigger.source.id == "source")
        #expect(trigger.source.uses == "http.request")
        #expect(trigger.source.timeoutSeconds == 5)
        #expect(trigger.isSatisfied(by: ["json": ["temp": .double(31.5), "alerts": .array(["storm"])]]))
        #expect(!trigger.isSatisfied(by: ["json": ["temp": .double(31.5), "alerts": .array([])]]))
        #expect(!trigger.isSatisfied(by: ["json": ["temp": .int(30), "alerts": .array(["storm"])]]))
        #expect(!trigger.isSatisfied(by: .null))
    }

    /// Condition expression refusals: `/schedule_expr`, the sub-field in the message, the offset inside `when`.
    @Test(
        arguments: [
            (#"{"source": {"uses": "a.b"}, "when": "result"}"#, "every_seconds is required", nil),
            (
                #"{"every_seconds": 9, "source": {"uses": "a.b"}, "when": "result"}"#,
                "every_seconds must be a whole number of seconds between 10 and 86400", nil
            ),
            (#"{"every_seconds": 86401, "source": {"uses": "a.b"}, "when": "result"}"#, "between 10 and 86400", nil),
            (#"{"every_seconds": 10.5, "source": {"uses": "a.b"}, "when": "result"}"#, "between 10 and 86400", nil),
            (#"{"every_seconds": "60", "source": {"uses": "a.b"}, "when": "result"}"#, "every_seconds must be", nil),
            (#"{"every_seconds": 60, "when": "result"}"#, "source is required", nil),
            (
                #"{"every_seconds": 60, "source": {"uses": "no dot"}, "when": "result"}"#,
                "source/uses: must be '<server>.<tool>'", nil
            ),
            (
                #"{"every_seconds": 60, "source": {"uses": "a.b", "with": {"u": "${steps.x.y}"}}, "when": "result"}"#,
                "source/with/u: step 'source' refers to unknown step 'x'", nil
            ),
            (
                #"{"every_seconds": 60, "source": {"uses": "a.b", "extra": 1}, "when": "result"}"#,
                "source/extra: unknown key 'extra'", nil
            ),
            (#"{"every_seconds": 60, "source": {"uses": "a.b"}}"#, "when is required", nil),
            (
                #"{"every_seconds": 60, "source": {"uses": "a.b"}, "when": "result.x >"}"#,
                "when at offset 10: expected a literal", 10
            ),
            (
                #"{"every_seconds": 60, "source": {"uses": "a.b"}, "when": "steps.x.y"}"#,
                "when: the path 'steps.x.y' must start with result", nil
            ),
            (
                #"{"every_seconds": 60, "source": {"uses": "a.b"}, "when": "result", "interval": 5}"#,
                "unknown key 'interval'", nil
            ),
            (#"[60]"#, "must be a JSON object", nil),
            (#"{"every_seconds": 60"#, "is not valid JSON", 20),
        ] as [(String, String, Int?)])
    func refusesConditionExpressions(expression: String, message: String, offset: Int?) {
        do {
            let trigger = try ConditionTrigger.parse(expression)
            Issue.record("parsed \(trigger)")
        } catch {
            #expect(error.pointer == "/schedule_expr")
            #expect(error.message.contains(message), "\(error)")
            #expect(error.offset == offset, "\(error)")
            #expect(error.validationError.fieldErrors == [error.fieldError])
        }
    }

    private struct Failure: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }
}
