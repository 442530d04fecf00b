/// A `condition` task's trigger: call a source tool every N seconds and run when `when` turns true.
///
/// `schedule_expr` is a JSON object:
/// `{"every_seconds": 60, "source": {"uses": "http.request", "with": {...}}, "when": "result.json.temp > 30"}`.
/// - `every_seconds`: the polling interval, a whole number from 10 to 86400.
/// - `source`: a pipeline step (see `PipelineStep.parse`) whose `id` defaults to `source`; it may read
///   `${secrets.…}`, `${env.…}`, `${task.…}` and `${instance.…}`, but no `${steps.…}`.
/// - `when`: a `ConditionExpression` over `{"result": <the source's output>}`; its paths start at `result`.
///
/// The task runs when the condition *turns* true: a check that finds it true after one that found it false (or
/// after none). `isSatisfied(by:)` answers one check; the caller keeps the previous answer to detect the edge.
public struct ConditionTrigger: Sendable, Hashable {
    /// The accepted polling intervals, in seconds.
    public static let intervalRange = 10...86_400

    /// Seconds between checks.
    public let everySeconds: Int
    /// The step whose output is checked.
    public let source: PipelineStep
    /// The condition over `result`.
    public let when: ConditionExpression

    /// Parses the JSON object; errors name `/schedule_expr` and, in the message, the sub-field (the offset is
    /// inside `when` for an expression error, or the JSON byte offset for a syntax error).
    public static func parse(_ expression: String) throws(ScheduleError) -> ConditionTrigger {
        let members = try TaskTrigger.jsonObject(expression, keys: ["every_seconds", "source", "when"])
        let range =
            "must be a whole number of seconds between \(intervalRange.lowerBound) and \(intervalRange.upperBound)"
        guard let value = members["every_seconds"] else { throw .expression("every_seconds is required", at: nil) }
        guard let seconds = value.numberValue, seconds.rounded() == seconds,
            let every = Int(exactly: seconds), intervalRange.contains(every)
        else { throw .expression("every_seconds \(range)", at: nil) }
        guard let sourceValue = members["source"] else {
            throw .expression("source is required: a step such as {\"uses\": \"http.request\", \"with\": {…}}", at: nil)
        }
        let source: PipelineStep
        do {
            source = try PipelineStep.parse(sourceValue, pointer: "source", defaultID: "source")
        } catch {
            // A ScheduleError holds one field error: report the first, naming the sub-field (`source/uses: …`).
            let first = error.fieldErrors[0]
            throw .expression("\(first.pointer): \(first.message)", at: nil)
        }
        guard case .string(let whenText) = members["when"] else {
            throw .expression("when is required: a condition over result, e.g. \"result.status == 200\"", at: nil)
        }
        let when: ConditionExpression
        do {
            when = try ConditionExpression.parse(whenText)
        } catch {
            throw .expression("when \(error.description)", at: error.offset)
        }
        if let path = when.paths.first(where: { $0[0] != "result" }) {
            throw .expression("when: the path '\(path.joined(separator: "."))' must start with result", at: nil)
        }
        return ConditionTrigger(everySeconds: every, source: source, when: when)
    }

    /// Whether one check's result satisfies `when` (evaluated over `{"result": result}`).
    public func isSatisfied(by result: JSONValue) -> Bool {
        when.evaluate(.object(["result": result]))
    }
}
