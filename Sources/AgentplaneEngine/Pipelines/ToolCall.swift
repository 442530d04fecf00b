import AgentplaneCore
import Foundation
import Logging

/// What a tool call knows about where it runs.
public struct ToolCallContext: Sendable {
    /// The tenant whose pipeline calls.
    public var tenant: TenantID
    /// The task.
    public var taskID: UUID
    /// The run.
    public var runID: UUID
    /// The instance the task names, if any (`kb.search` searches its knowledge base).
    public var instanceID: UUID?
    /// How long the call may take.
    public var timeout: Duration
    /// Logs of the run.
    public var logger: Logger
    /// How many event-triggered runs lie behind this one (events it publishes carry it on).
    public var depth: Int = 0
    /// Where streamed text goes as it arrives (`llm.chat` hands it each delta), when the caller listens.
    public var output: (@Sendable (String) async -> Void)? = nil
    /// The effective configuration of the instance the call runs for (`llm.chat` falls back to its
    /// `endpoint`, `model`, `api_key_secret`, `system_prompt`, … when the input leaves them out).
    public var instanceConfig: [String: JSONValue]? = nil

    /// Creates a context.
    public init(tenant: TenantID, taskID: UUID, runID: UUID, instanceID: UUID?, timeout: Duration, logger: Logger) {
        self.tenant = tenant
        self.taskID = taskID
        self.runID = runID
        self.instanceID = instanceID
        self.timeout = timeout
        self.logger = logger
    }
}

/// Why a tool call failed; `retryable: false` when calling again cannot help (bad input, refused URL).
public struct ToolFailure: Error, CustomStringConvertible, Sendable {
    /// What went wrong, in words for the step log.
    public var description: String
    /// Whether another call may succeed.
    public var retryable: Bool

    /// Creates a failure.
    public init(_ description: String, retryable: Bool = true) {
        self.description = description
        self.retryable = retryable
    }
}

/// Calls the tools a step names: built-ins, and the tenant's MCP servers.
public protocol ToolInvoker: Sendable {
    /// Calls `uses` (`<server>.<tool>` or a built-in) with its rendered input; answers the tool's output.
    func call(_ uses: String, input: [String: JSONValue], context: ToolCallContext) async throws -> JSONValue
}

/// Runs `body`, failing with a retryable `ToolFailure` once `timeout` has passed (the body is cancelled).
func withTimeout<T: Sendable>(
    _ timeout: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw ToolFailure("\(what) timed out after \(timeout.formatted())")
        }
        return value
    }
}

extension Duration {
    /// Seconds with up to three decimals, e.g. `2.5 s`.
    func formatted() -> String {
        let seconds = Double(components.seconds) + Double(components.attoseconds) / 1e18
        return String(format: "%g s", (seconds * 1000).rounded() / 1000)
    }
}
