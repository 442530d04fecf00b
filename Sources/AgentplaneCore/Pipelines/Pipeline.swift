/// A task's declarative pipeline (`payload.pipeline`): steps that call tools, run in order.
///
/// Each step's output is stored under its `id` and, when set, its `save_as`, for later steps' `${steps.…}`
/// references (see `Template`) and `if` conditions (see `ConditionExpression`).
public struct Pipeline: Sendable, Hashable {
    /// The most steps a pipeline may have.
    public static let maximumStepCount = 100

    /// The steps, in the order they run.
    public var steps: [PipelineStep]

    /// Creates a pipeline.
    public init(steps: [PipelineStep]) {
        self.steps = steps
    }

    /// The distinct tools the steps call (`uses`), in the order they first appear.
    public func toolNames() -> [String] {
        var seen: Set<String> = []
        return steps.map(\.uses).filter { seen.insert($0).inserted }
    }

    /// The secret names the steps read through `${secrets.NAME}`.
    public var referencedSecrets: Set<String> { referencedNames(.secrets) }

    /// The environment variable names the steps read through `${env.NAME}`.
    public var referencedEnv: Set<String> { referencedNames(.env) }

    private func referencedNames(_ root: TemplateReference.Root) -> Set<String> {
        Set(steps.flatMap(\.references).filter { $0.root == root }.compactMap(\.path.first))
    }
}

/// One step: call the tool `uses` with `with` rendered, unless `if` is false.
public struct PipelineStep: Sendable, Hashable {
    /// The longest step id or save_as.
    public static let maximumNameLength = 64
    /// The longest timeout a step may set, in seconds.
    public static let maximumTimeoutSeconds = 3600.0

    /// Unique within the pipeline; 1–64 characters of `[A-Za-z0-9_-]`.
    public var id: String
    /// The tool, `<server>.<tool>` (the server is before the first `.`, e.g. `telegram-mcp.send_message`), or a
    /// bare built-in such as `log`.
    public var uses: String
    /// The tool's arguments; strings may hold `${…}` references.
    public var with: [String: JSONValue]
    /// Another name to store the output under, for later references.
    public var saveAs: String?
    /// The `if` condition: the step is skipped when it is false.
    public var condition: ConditionExpression?
    /// How long the tool call may take, in seconds (0 < x ≤ 3600); nil for the runner's default.
    public var timeoutSeconds: Double?
    /// How a failed call is retried; nil for no retry.
    public var retry: StepRetry?

    /// Creates a step.
    public init(
        id: String,
        uses: String,
        with: [String: JSONValue] = [:],
        saveAs: String? = nil,
        condition: ConditionExpression? = nil,
        timeoutSeconds: Double? = nil,
        retry: StepRetry? = nil
    ) {
        self.id = id
        self.uses = uses
        self.with = with
        self.saveAs = saveAs
        self.condition = condition
        self.timeoutSeconds = timeoutSeconds
        self.retry = retry
    }

    /// The server part of `uses` (before the first `.`), e.g. `telegram-mcp`; empty for a bare built-in.
    public var server: String {
        guard let dot = uses.firstIndex(of: ".") else { return "" }
        return String(uses[..<dot])
    }

    /// The tool part of `uses` (after the first `.`), e.g. `send_message`.
    public var tool: String {
        guard let dot = uses.firstIndex(of: ".") else { return uses }
        return String(uses[uses.index(after: dot)...])
    }

    /// The `${…}` references in `with`, in no particular order (strings that do not parse are skipped).
    public var references: [TemplateReference] {
        var found: [TemplateReference] = []
        for value in with.values { Self.collectReferences(value, into: &found) }
        return found
    }

    private static func collectReferences(_ value: JSONValue, into found: inout [TemplateReference]) {
        switch value {
        case .string(let text) where Template.mayContainReferences(text):
            found += (try? Template.parse(text).references) ?? []
        case .array(let elements):
            for element in elements { collectReferences(element, into: &found) }
        case .object(let members):
            for member in members.values { collectReferences(member, into: &found) }
        default:
            break
        }
    }
}

/// How a step's failed tool call is retried: `{"max_attempts": 3, "delay_seconds": 1}`.
public struct StepRetry: Sendable, Hashable {
    /// The accepted attempt counts.
    public static let attemptRange = 1...10
    /// The accepted delays, in seconds.
    public static let delayRange = 0.0...3600.0

    /// Attempts in all, the first included (1…10).
    public var maxAttempts: Int
    /// The wait between attempts, in seconds (0…3600; 0 when not given).
    public var delaySeconds: Double

    /// Creates a retry policy.
    public init(maxAttempts: Int, delaySeconds: Double = 0) {
        self.maxAttempts = maxAttempts
        self.delaySeconds = delaySeconds
    }
}

/// Why a pipeline was refused: every invalid field found, not only the first.
public struct PipelineError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The invalid fields, in the order found.
    public var fieldErrors: [FieldError]

    /// Creates an error.
    public init(_ fieldErrors: [FieldError]) {
        self.fieldErrors = fieldErrors
    }

    /// The same failure as the catalogue's `VALIDATION_FAILED` error.
    public var validationError: AgentplaneError { .validation(fieldErrors) }

    /// Each `pointer: message`, separated by `; `.
    public var description: String {
        fieldErrors.map { "\($0.pointer): \($0.message)" }.joined(separator: "; ")
    }
}
