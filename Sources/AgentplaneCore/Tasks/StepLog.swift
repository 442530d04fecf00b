import Foundation

/// How one pipeline step of an attempt went.
public enum StepOutcome: String, Sendable, CaseIterable, Codable {
    case succeeded
    case failed
    /// Its `if` was false.
    case skipped
}

/// One step of one attempt of a pipeline run: what it was given (secrets masked), what it answered, how
/// long it took.
public struct StepLog: Sendable, Hashable {
    /// The attempt of the run it belongs to.
    public var attempt: Int
    /// Its position in the pipeline (0-based).
    public var position: Int
    /// The step's id.
    public var stepID: String
    /// The tool.
    public var uses: String
    /// How it went.
    public var outcome: StepOutcome
    /// The rendered input, secrets masked (nil when rendering failed or the step was skipped).
    public var input: JSONValue?
    /// The tool's output (succeeded steps).
    public var output: JSONValue?
    /// Why it failed.
    public var error: String?
    /// Tool calls made (more than one when the step retried).
    public var calls: Int
    /// Started.
    public var startedAt: Timestamp
    /// How long it took, in microseconds.
    public var durationMicroseconds: Int64

    /// Creates a step log.
    public init(
        attempt: Int, position: Int, stepID: String, uses: String, outcome: StepOutcome, input: JSONValue?,
        output: JSONValue?, error: String?, calls: Int, startedAt: Timestamp, durationMicroseconds: Int64
    ) {
        self.attempt = attempt
        self.position = position
        self.stepID = stepID
        self.uses = uses
        self.outcome = outcome
        self.input = input
        self.output = output
        self.error = error
        self.calls = calls
        self.startedAt = startedAt
        self.durationMicroseconds = durationMicroseconds
    }
}
