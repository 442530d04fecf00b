import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging

/// The handler of task runs (`task.run`): a fire runs the task's pipeline; a condition task's check calls
/// its source, and fires the task when the condition turned true. Every attempt's step logs are stored.
public struct TaskWork: Sendable {
    let useCases: UseCases
    let runner: PipelineRunner
    let tools: any ToolInvoker
    let environment: [String: String]
    let logger: Logger

    /// Creates the handler; `environment` holds the variables the operator allows as `${env.NAME}`.
    public init(
        useCases: UseCases, tools: any ToolInvoker, environment: [String: String] = [:], logger: Logger
    ) {
        self.useCases = useCases
        self.tools = tools
        self.runner = PipelineRunner(tools: tools, clock: useCases.clock)
        self.environment = environment
        self.logger = logger
    }

    /// The handlers by run kind.
    public var handlers: [String: RunHandler] { [AgentTask.runKind: { try await self.perform($0.run) }] }

    /// A `once` task whose run ends `dead` is completed all the same (it had its run).
    public var deadHandlers: [String: DeadRunHandler] {
        [
            AgentTask.runKind: { run, _ in
                guard let task = try await self.task(of: run), task.scheduleKind == TaskScheduleKind.once.rawValue
                else { return }
                _ = try await useCases.store.tasks.complete(
                    tenant: task.tenantID, id: task.id, now: useCases.clock.now())
            }
        ]
    }

    func task(of run: Run) async throws -> AgentTask? {
        guard let id = run.request.taskID else { throw PermanentRunFailure("the run names no task") }
        return try await useCases.store.tasks.find(tenant: run.request.tenantID, id: id)
    }

    func perform(_ run: Run) async throws -> JSONValue {
        guard let task = try await task(of: run) else { return ["skipped": "the task was deleted"] }
        guard task.status != .cancelled else { return ["skipped": "the task was cancelled"] }
        if run.request.arguments["check"] == .bool(true) { return try await check(task, run: run) }
        let pipeline: Pipeline
        do {
            pipeline = try Pipeline.parse(payload: .object(task.payload))
        } catch {
            throw PermanentRunFailure("the task's pipeline is invalid: \(error.fieldErrors.map(\.message))")
        }
        let instance = try await instanceJSON(task)
        let secrets = try await useCases.secretValues(pipeline.referencedSecrets, tenant: task.tenantID)
        let context = RenderContext(
            event: run.request.arguments["event"], task: Self.json(task), instance: instance, secrets: secrets,
            env: environment)
        var call = callContext(task, run: run)
        call.instanceConfig = instance?["config"]?.objectValue  // llm.chat's defaults
        let outcome = await runner.run(pipeline, context: context, call: call, attempt: run.attempt)
        try await useCases.store.runs.recordSteps(
            tenant: task.tenantID, run: run.id, attempt: run.attempt, outcome.logs)
        if let failure = outcome.failure {
            if failure.retryable { throw failure }
            throw PermanentRunFailure(failure.description)
        }
        if task.scheduleKind == TaskScheduleKind.once.rawValue {
            _ = try await useCases.store.tasks.complete(tenant: task.tenantID, id: task.id, now: useCases.clock.now())
        }
        return outcome.result
    }

    /// A condition task's check: calls the source, stores the answer, fires the task on a false → true edge.
    func check(_ task: AgentTask, run: Run) async throws -> JSONValue {
        guard
            case .condition(let trigger)? = try? TaskTrigger.parse(
                kind: task.scheduleKind, expression: task.scheduleExpr, timeZone: task.timezone,
                start: task.scheduleStart)
        else { throw PermanentRunFailure("the task's condition no longer parses") }
        let input: JSONValue
        do {
            let secrets = try await useCases.secretValues(
                Set(trigger.source.references.filter { $0.root == .secrets }.compactMap(\.path.first)),
                tenant: task.tenantID)
            input = try TemplateRenderer.render(
                .object(trigger.source.with),
                in: RenderContext(
                    task: Self.json(task), instance: try await instanceJSON(task), secrets: secrets, env: environment))
        } catch let error as RenderError {
            throw PermanentRunFailure("the condition's source: unknown reference \(error)")
        }
        var call = callContext(task, run: run)
        call.timeout = trigger.source.timeoutSeconds.map { .milliseconds(Int64($0 * 1000)) } ?? .seconds(60)
        let uses = trigger.source.uses
        let sourceCall = call
        let output = try await withTimeout(call.timeout, "'\(uses)'") {
            try await tools.call(uses, input: input.objectValue ?? [:], context: sourceCall)
        }
        let satisfied = trigger.isSatisfied(by: output)
        try await useCases.store.tasks.setConditionState(tenant: task.tenantID, id: task.id, state: satisfied)
        guard satisfied, task.conditionState != true else {
            return ["satisfied": .bool(satisfied), "fired": .bool(false)]
        }
        let now = useCases.clock.now()
        let fire = TaskDecisions.fire(
            task, key: "condition:\(run.id.lowercasedString)", scheduledAt: now, now: now,
            trigger: ["event": ["type": "task.condition", "data": ["result": output]]])
        let caller = Caller.worker("task.condition", run: run.id)
        let fired = try await useCases.store.tasks.fire(
            fire, of: task,
            record: caller.record(
                AuditedResource(tenant: task.tenantID, type: "task", id: task.id.lowercasedString), status: 202,
                events: [Events.taskFired(task, fire, context: caller.eventContext, at: now)], runs: [fire.run],
                at: now))
        return ["satisfied": .bool(true), "fired": .bool(fired), "run_id": .string(fire.run.id.lowercasedString)]
    }

    /// The task's instance as a pipeline sees it (`${instance.config.…}`), if it names one that exists.
    func instanceJSON(_ task: AgentTask) async throws -> JSONValue? {
        guard let id = task.instanceID,
            let found = try await useCases.store.instances.find(tenant: task.tenantID, id: id)
        else { return nil }
        return [
            "id": .string(found.id.lowercasedString), "name": .string(found.name), "config": .object(found.config),
        ]
    }

    func callContext(_ task: AgentTask, run: Run) -> ToolCallContext {
        var context = ToolCallContext(
            tenant: task.tenantID, taskID: task.id, runID: run.id, instanceID: task.instanceID,
            timeout: PipelineRunner.defaultStepTimeout, logger: logger)
        if case .int(let depth)? = run.request.arguments["depth"] { context.depth = Int(depth) }
        return context
    }

    /// The task as a pipeline sees it (`${task.title}`, `${task.payload.…}`).
    static func json(_ task: AgentTask) -> JSONValue {
        [
            "id": .string(task.id.lowercasedString), "title": .string(task.title),
            "description": .string(task.description), "schedule_kind": .string(task.scheduleKind),
            "schedule_expr": task.scheduleExpr.map(JSONValue.string) ?? .null, "timezone": .string(task.timezone),
            "payload": .object(task.payload), "created_by": .string(task.createdBy),
            "instance_id": task.instanceID.map { .string($0.lowercasedString) } ?? .null,
        ]
    }
}
