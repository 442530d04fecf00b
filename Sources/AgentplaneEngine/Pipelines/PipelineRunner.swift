import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import Tracing

/// What one attempt of a pipeline did: a log per step, the steps' outputs, and the failure that stopped it.
public struct PipelineOutcome: Sendable {
    /// One log per step reached.
    public var logs: [StepLog]
    /// Each step's output, by id (and `save_as`).
    public var outputs: [String: JSONValue]
    /// Why it stopped before the end (nil: every step succeeded or was skipped).
    public var failure: ToolFailure?

    /// The run's result: the outputs by step id.
    public var result: JSONValue { ["steps": .object(outputs)] }
}

/// Runs a pipeline's steps in order: `if` decides whether a step runs, `with` is rendered from what came
/// before, the tool is called with the step's timeout and retried as its `retry` says. Rendering never
/// evaluates code; an unknown reference fails the step (and the run, without retrying it).
public struct PipelineRunner: Sendable {
    let tools: any ToolInvoker
    let clock: any WallClock

    /// The timeout of a step that names none.
    public static let defaultStepTimeout: Duration = .seconds(60)

    /// Creates a runner.
    public init(tools: any ToolInvoker, clock: any WallClock) {
        self.tools = tools
        self.clock = clock
    }

    /// Runs `pipeline` for one attempt of a run.
    public func run(
        _ pipeline: Pipeline, context initial: RenderContext, call: ToolCallContext, attempt: Int
    ) async -> PipelineOutcome {
        var context = initial
        var outcome = PipelineOutcome(logs: [], outputs: [:], failure: nil)
        for (position, step) in pipeline.steps.enumerated() {
            let started = clock.now()
            var log = StepLog(
                attempt: attempt, position: position, stepID: step.id, uses: step.uses, outcome: .skipped, input: nil,
                output: nil, error: nil, calls: 0, startedAt: started, durationMicroseconds: 0)
            if let condition = step.condition, !condition.evaluate(context.conditionRoot) {
                outcome.logs.append(log)
                continue
            }
            let input: JSONValue
            do {
                input = try TemplateRenderer.render(.object(step.with), in: context)
            } catch {
                let failure = ToolFailure("step '\(step.id)': unknown reference \(error)", retryable: false)
                log.outcome = .failed
                log.error = failure.description
                log.durationMicroseconds = clock.now().microsecondsSinceEpoch - started.microsecondsSinceEpoch
                outcome.logs.append(log)
                outcome.failure = failure
                return outcome
            }
            log.input = TemplateRenderer.masked(input, secrets: context.secrets)
            var stepCall = call
            stepCall.timeout = step.timeoutSeconds.map { .milliseconds(Int64($0 * 1000)) } ?? Self.defaultStepTimeout
            let result = await TraceSpans.child("step \(step.uses)") { span in
                let result = await callWithRetries(step, input: input.objectValue ?? [:], call: stepCall, log: &log)
                if span.isRecording { Self.describe(step, position: position, calls: log.calls, result, on: span) }
                return result
            }
            log.durationMicroseconds = clock.now().microsecondsSinceEpoch - started.microsecondsSinceEpoch
            switch result {
            case .success(let output):
                log.outcome = .succeeded
                log.output = TemplateRenderer.masked(output, secrets: context.secrets)
                context.steps[step.id] = output
                if let name = step.saveAs { context.steps[name] = output }
                outcome.outputs[step.id] = log.output
                outcome.logs.append(log)
            case .failure(let failure):
                log.outcome = .failed
                log.error = "step '\(step.id)' (\(step.uses)): \(failure.description)"
                outcome.logs.append(log)
                outcome.failure = ToolFailure(log.error ?? failure.description, retryable: failure.retryable)
                return outcome
            }
        }
        return outcome
    }

    /// A step's span: which step, how many calls it took, and its failure.
    static func describe(
        _ step: PipelineStep, position: Int, calls: Int, _ result: Result<JSONValue, ToolFailure>, on span: any Span
    ) {
        span.updateAttributes { attributes in
            attributes["agentplane.step.id"] = step.id
            attributes["agentplane.step.uses"] = step.uses
            attributes["agentplane.step.position"] = position
            attributes["agentplane.step.calls"] = calls
        }
        if case .failure(let failure) = result {
            span.setStatus(SpanStatus(code: .error, message: String(failure.description.prefix(512))))
        }
    }

    private func callWithRetries(
        _ step: PipelineStep, input: [String: JSONValue], call: ToolCallContext, log: inout StepLog
    ) async -> Result<JSONValue, ToolFailure> {
        let attempts = step.retry?.maxAttempts ?? 1
        var last = ToolFailure("not called")
        for number in 1...attempts {
            log.calls = number
            do {
                let uses = step.uses
                let output = try await withTimeout(call.timeout, "'\(uses)'") {
                    try await tools.call(uses, input: input, context: call)
                }
                return .success(output)
            } catch let failure as ToolFailure {
                last = failure
            } catch is CancellationError {
                return .failure(ToolFailure("cancelled"))
            } catch {
                last = ToolFailure("\(error)")
            }
            guard last.retryable, number < attempts else { break }
            if let delay = step.retry?.delaySeconds, delay > 0 {
                try? await Task.sleep(for: .milliseconds(Int64(delay * 1000)))
            }
        }
        return .failure(last)
    }
}
