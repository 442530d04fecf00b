import AgentplaneCore
import Foundation
import Testing

/// Issue 9 item 3: the engine against independent oracles (cronsim for cron, python-dateutil for RRULE) on
/// thousands of generated expressions, the next 50 fire times each.
@Suite struct DifferentialOracleTests {
    static let cronCount = 3000
    static let rruleCount = 3000

    @Test(
        .enabled(
            if: Oracle.shouldRun,
            """
            no oracle Python (AGENTPLANE_ORACLE_PYTHON or .venv-oracles/): run scripts/install-oracles; \
            AGENTPLANE_TEST_REQUIRE_ORACLES=1 turns this skip into a failure
            """))
    func agreesWithTheOraclesOnGeneratedExpressions() throws {
        var generator = ScheduleCaseGenerator(seed: 0x5EED_0009)
        let questions = generator.questions(cron: Self.cronCount, rrule: Self.rruleCount)
        let answers = try Oracle.answers(questions)

        var mismatches: [String] = []
        var compared = 0
        var fireTimes = 0
        var refusedByBoth = 0
        for (question, answer) in zip(questions, answers) {
            compared += 1
            let engine = Result { () throws(ScheduleError) -> [Int64] in
                try Schedule(
                    kind: question.kind, expression: question.expr, timeZone: question.tz,
                    start: Timestamp(microsecondsSinceEpoch: question.start)
                )
                .nextFireTimes(after: Timestamp(microsecondsSinceEpoch: question.after), count: question.count)
                .map(\.microsecondsSinceEpoch)
            }
            switch (engine, answer.times) {
            case (.success(let times), let expected?) where times == expected:
                fireTimes += times.count
            case (.failure, nil):
                refusedByBoth += 1
            default:
                mismatches.append(Self.describe(question, engine: engine, oracle: answer))
            }
        }
        let summary =
            "compared \(compared) expressions (\(Self.cronCount) cron, \(Self.rruleCount) RRULE): \(fireTimes) equal "
            + "fire times, \(refusedByBoth) refused by both, \(mismatches.count) mismatches"
        print(summary)
        for mismatch in mismatches.prefix(30) { print(mismatch) }
        #expect(compared >= 5000)
        #expect(mismatches.isEmpty, "\(summary)\n\(mismatches.prefix(10).joined(separator: "\n"))")
    }

    /// The expression, zone, start and the first differing fire times, in UTC and local time.
    static func describe(
        _ question: OracleQuestion, engine: Result<[Int64], ScheduleError>, oracle: OracleAnswer
    ) -> String {
        let zone = TimeZone(identifier: question.tz)!
        func show(_ micros: Int64?) -> String {
            guard let micros else { return "none" }
            let timestamp = Timestamp(microsecondsSinceEpoch: micros)
            let formatter = ISO8601DateFormatter()
            formatter.timeZone = zone
            return "\(timestamp.rfc3339) (\(formatter.string(from: timestamp.date)) local)"
        }
        var text =
            "MISMATCH \(question.kind) '\(question.expr)' in \(question.tz), start \(show(question.start)), "
            + "after \(show(question.after)): "
        switch (engine, oracle.times) {
        case (.success(let times), let expected?):
            let index =
                zip(times, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                ?? min(times.count, expected.count)
            text +=
                "first difference at #\(index): engine \(show(times.dropFirst(index).first)), "
                + "oracle \(show(expected.dropFirst(index).first)) "
                + "(engine \(times.count), oracle \(expected.count) times)"
        case (.success(let times), nil):
            text +=
                "engine answered \(times.count) times (first \(show(times.first))), "
                + "oracle refused: \(oracle.error ?? "")"
        case (.failure(let error), let expected?):
            text += "engine refused (\(error)), oracle answered \(expected.count) times (first \(show(expected.first)))"
        case (.failure, nil):
            text += "both refused"
        }
        return text
    }
}
