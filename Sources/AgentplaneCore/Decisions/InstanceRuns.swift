import Foundation

/// How the caller of `POST /api/v1/instances/{id}/runs` gets the run's outcome.
public enum InstanceRunMode: String, Sendable, CaseIterable, Codable {
    /// The answer waits for the run's end (up to its timeout) and carries its output.
    case wait
    /// The answer is an SSE stream of the run's events and output, resumable with `Last-Event-ID`.
    case stream
    /// `202` with the run at once.
    case background
}

/// A request to run an instance.
public struct StartInstanceRun: Sendable, Hashable {
    /// The run's input: `${input.<path>}` in a pipeline, the user's message for a chat, the body for an agent.
    public var input: JSONValue
    /// How the outcome is answered.
    public var mode: InstanceRunMode
    /// Attempts before the run is dead (1–10; default 3: a node's death costs one).
    public var maxAttempts: Int?
    /// Overrides the instance's `timeout_seconds` for this run (1–3600).
    public var timeoutSeconds: Double?

    /// Creates a request.
    public init(
        input: JSONValue = .object([:]), mode: InstanceRunMode = .wait, maxAttempts: Int? = nil,
        timeoutSeconds: Double? = nil
    ) {
        self.input = input
        self.mode = mode
        self.maxAttempts = maxAttempts
        self.timeoutSeconds = timeoutSeconds
    }
}

/// The rules of instance runs (DESIGN §6): who may run, and the engine run that carries it.
public enum InstanceRuns {
    /// The run kind of an instance run.
    public static let kind = "instance.run"
    /// The default number of attempts.
    public static let defaultMaxAttempts = 3
    /// The largest input, in bytes of its JSON text.
    public static let maximumInputBytes = 256 * 1024

    /// Field errors of a request.
    public static func errors(_ request: StartInstanceRun) -> [FieldError] {
        var errors = EventValidation.dataErrors(request.input, pointer: "/input")
        if request.input.jsonText.utf8.count > maximumInputBytes {
            errors.append(FieldError(pointer: "/input", message: "must be at most \(maximumInputBytes) bytes of JSON"))
        }
        if let attempts = request.maxAttempts, !(1...10).contains(attempts) {
            errors.append(FieldError(pointer: "/max_attempts", message: "must be between 1 and 10"))
        }
        if let timeout = request.timeoutSeconds, !(timeout >= 1 && timeout <= 3600) {
            errors.append(FieldError(pointer: "/timeout_seconds", message: "must be between 1 and 3600"))
        }
        return errors
    }

    /// The runtime of an instance that may run now, else why not: `INSTANCE_NOT_RUNNING` (409) unless it is
    /// `running`, `INSTANCE_NOT_RUNNABLE` (409) when its configuration declares no (valid) runtime.
    public static func runtime(of instance: Instance) throws(AgentplaneError) -> InstanceRuntime {
        guard instance.status == .running else {
            throw AgentplaneError(
                .instanceNotRunning,
                "The instance is \(instance.status.rawValue); only a running instance runs.",
                details: ["status": .string(instance.status.rawValue)])
        }
        switch InstanceRuntime.resolve(config: instance.config, pipelineConfig: instance.pipelineConfig) {
        case .success(let runtime?):
            return runtime
        case .success(nil):
            throw AgentplaneError(
                .instanceNotRunnable,
                "The instance declares no runtime: set `runtime` (pipeline, chat or http) in its configuration.")
        case .failure(let error):
            throw AgentplaneError(
                .instanceNotRunnable, "The instance's runtime is not complete: \(error.description)",
                fieldErrors: error.fieldErrors)
        }
    }

    /// The engine run of a request; `streamAfter` is the tenant's log position before it (where a stream of
    /// the run starts when no `Last-Event-ID` is given).
    public static func newRun(
        _ request: StartInstanceRun, instance: Instance, runtime: InstanceRuntime, requestedBy: String,
        streamAfter: EventPosition, now: Timestamp
    ) -> NewRun {
        let timeout = request.timeoutSeconds ?? runtime.timeoutSeconds
        return NewRun(
            id: UUIDv7.make(at: now), kind: kind, tenantID: instance.tenantID,
            arguments: [
                "instance_id": .string(instance.id.lowercasedString), "input": request.input,
                "mode": .string(request.mode.rawValue), "runtime": .string(runtime.kind.rawValue),
                "timeout_seconds": .double(timeout), "requested_by": .string(requestedBy),
                "stream_after": .string(streamAfter.description),
            ],
            priority: 4, runAt: now, maxAttempts: request.maxAttempts ?? defaultMaxAttempts,
            backoff: Backoff(strategy: .exponentialJitter, baseSeconds: 1, capSeconds: 30), instanceID: instance.id,
            createdAt: now)
    }

    /// How long a `wait` request (the API's or the gateway's) waits for `run`: 5 s past the run's own timeout, so
    /// that a run that times out answers with its failure; past it, the answer is the run as it is (202).
    public static func waitLimit(of run: Run) -> Duration {
        let timeout = run.request.arguments["timeout_seconds"]?.numberValue ?? InstanceRuntime.defaultTimeoutSeconds
        return .milliseconds(Int64(timeout * 1000) + 5000)
    }

    /// The `run.*` event types of a run that has ended for good.
    public static let finalEventTypes = [EventType.runSucceeded, .runDead, .runCancelled].map(\.rawValue)

    /// Whether a `run.*` event type ends the run's stream (it has ended for good).
    public static func endsStream(_ type: String) -> Bool { finalEventTypes.contains(type) }
}
