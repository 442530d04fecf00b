import AgentplaneCore
import AgentplaneStore
import Foundation

extension UseCases {
    /// Creates a task within the tenant's `max_tasks`; its schedule, pipeline and tools are checked first.
    public func createTask(_ fields: TaskFields, tenant named: TenantID?, by caller: Caller) async throws -> AgentTask {
        let tenant = try await actingTenant(named, for: caller)
        let context = try await taskContext(fields, tenant: tenant, caller: caller)
        let (task, events) = try TaskDecisions.create(fields, tenant: tenant, context: context)
        try await startEventCursor(for: task)
        // The principal that really called is the audit row's; the client's `created_by` is in its details.
        try await store.tasks.create(
            task,
            record: caller.record(
                Self.resource(task), status: 201, events: events, details: ["created_by": .string(task.createdBy)],
                at: context.now))
        taskSettings.wakeup.signal()
        return task
    }

    /// The tenant's tasks matching `query` (asked with one extra row).
    public func listTasks(_ query: TaskQuery, tenant named: TenantID?, for caller: Caller) async throws
        -> Page<AgentTask>
    {
        let tenant = try await actingTenant(named, for: caller)
        var probe = query
        probe.limit += 1
        return Page(fetched: try await store.tasks.list(tenant: tenant, query: probe), limit: query.limit)
    }

    /// One task of the acting tenant (else 404).
    public func task(_ id: UUID, tenant named: TenantID?, for caller: Caller) async throws -> AgentTask {
        let tenant = try await actingTenant(named, for: caller)
        guard let task = try await store.tasks.find(tenant: tenant, id: id) else {
            throw AgentplaneError(.notFound, "No such task.")
        }
        return task
    }

    /// Changes a task (`PUT`): the fields given replace the stored ones.
    public func updateTask(_ id: UUID, _ fields: TaskFields, tenant named: TenantID?, by caller: Caller)
        async throws -> AgentTask
    {
        let current = try await task(id, tenant: named, for: caller)
        let context = try await taskContext(fields, tenant: current.tenantID, caller: caller)
        let change = try TaskDecisions.update(fields, current: current, context: context)
        return try await save(change, current: current, by: caller, now: context.now)
    }

    /// `pause`, `resume` or `cancel`.
    public func transitionTask(
        _ id: UUID, to status: TaskStatus, expectedVersion: Int64?, tenant named: TenantID?, by caller: Caller
    ) async throws -> AgentTask {
        let current = try await task(id, tenant: named, for: caller)
        let context = TaskContext(
            caller: caller.principal.subject, events: caller.eventContext, now: clock.now(),
            defaultTimezone: taskSettings.defaultTimezone)
        let change = try TaskDecisions.transition(
            current, to: status, expectedVersion: expectedVersion, context: context)
        return try await save(change, current: current, by: caller, now: context.now)
    }

    /// Delays the task's next fire by `seconds`.
    public func snoozeTask(
        _ id: UUID, seconds: Int, expectedVersion: Int64?, tenant named: TenantID?, by caller: Caller
    ) async throws -> AgentTask {
        let current = try await task(id, tenant: named, for: caller)
        let context = TaskContext(
            caller: caller.principal.subject, events: caller.eventContext, now: clock.now(),
            defaultTimezone: taskSettings.defaultTimezone)
        let change = try TaskDecisions.snooze(
            current, seconds: seconds, expectedVersion: expectedVersion, context: context)
        return try await save(change, current: current, by: caller, now: context.now)
    }

    /// Fires the task now (its schedule is untouched); answers the run it enqueued.
    public func runTaskNow(_ id: UUID, tenant named: TenantID?, by caller: Caller) async throws -> Run {
        let task = try await task(id, tenant: named, for: caller)
        let now = clock.now()
        let context = TaskContext(
            caller: caller.principal.subject, events: caller.eventContext, now: now,
            defaultTimezone: taskSettings.defaultTimezone)
        let fire = try TaskDecisions.runNow(task, context: context)
        _ = try await store.tasks.fire(
            fire, of: task,
            record: caller.record(
                Self.resource(task), status: 202,
                events: [Events.taskFired(task, fire, context: caller.eventContext, at: now)],
                details: ["run_id": .string(fire.run.id.lowercasedString)], runs: [fire.run], at: now))
        // The run as enqueued (a dedupe key held inside its window answers the holder instead).
        if let run = try await store.runs.find(tenant: task.tenantID, id: fire.run.id) { return run }
        if let key = fire.run.dedupeKey,
            let holder = try await store.runs.list(
                tenant: task.tenantID, query: RunQuery(taskID: task.id, limit: 20)
            ).first(where: { $0.request.dedupeKey == key })
        {
            return holder
        }
        throw AgentplaneError(.conflict, "The task's run was not enqueued (its dedupe key is held).")
    }

    /// Deletes a task; its runs stay.
    public func deleteTask(_ id: UUID, tenant named: TenantID?, by caller: Caller) async throws {
        let current = try await task(id, tenant: named, for: caller)
        let now = clock.now()
        try await store.tasks.delete(
            tenant: current.tenantID, id: current.id,
            record: caller.record(
                Self.resource(current), status: 204,
                events: [Events.task(.taskDeleted, current, context: caller.eventContext, at: now)], at: now))
    }

    /// The next fire times of a schedule (the preview endpoint): what a rule means before it is saved.
    public func previewSchedule(
        kind: String, expression: String, timezone: String?, after: Timestamp?, count: Int
    ) throws -> [Timestamp] {
        guard (1...Schedule.maximumCount).contains(count) else {
            throw AgentplaneError.validation([
                FieldError(pointer: "count", message: "must be between 1 and \(Schedule.maximumCount)")
            ])
        }
        let now = clock.now()
        let from = after ?? now
        do throws(ScheduleError) {
            let schedule = try Schedule(
                kind: kind, expression: expression, timeZone: timezone ?? taskSettings.defaultTimezone,
                start: TaskDecisions.minute(from))
            return schedule.nextFireTimes(after: from, count: count)
        } catch {
            throw AgentplaneError.validation([
                FieldError(pointer: String(error.pointer.dropFirst()), message: error.message)
            ])
        }
    }

    func taskContext(_ fields: TaskFields, tenant: TenantID, caller: Caller) async throws -> TaskContext {
        var instance: Instance?
        if let text = fields.instanceID, let id = UUID(uuidString: text) {
            instance = try await store.instances.find(tenant: tenant, id: id)
        }
        var payloadErrors: [FieldError] = []
        if let payload = fields.payload { payloadErrors = await pipelineErrors(payload, tenant: tenant) }
        return TaskContext(
            caller: caller.principal.subject, events: caller.eventContext, now: clock.now(),
            defaultTimezone: taskSettings.defaultTimezone, payloadErrors: payloadErrors, instance: instance)
    }

    func save(_ change: Change<AgentTask>, current: AgentTask, by caller: Caller, now: Timestamp) async throws
        -> AgentTask
    {
        let saved = try await checkingVersion(of: "task", expected: change.expectedVersion, current: current.version) {
            try await store.tasks.update(
                change.state, expectedVersion: change.expectedVersion, from: current.status,
                record: caller.record(Self.resource(current), status: 200, events: change.events, at: now))
        }
        if saved.nextRunAt != current.nextRunAt { taskSettings.wakeup.signal() }
        return saved
    }

    static func resource(_ task: AgentTask) -> AuditedResource {
        AuditedResource(tenant: task.tenantID, type: "task", id: task.id.lowercasedString)
    }
}

/// The server's settings for tasks.
public struct TaskSettings: Sendable {
    /// The time zone of a task that names none (`--default-timezone`; UTC unless the operator says otherwise).
    public var defaultTimezone: String
    /// Rung when a task's next fire time may have moved earlier (the scheduler on this node looks again).
    public var wakeup = RunWakeup()
    /// Checks steps whose tool is not a built-in (MCP servers of the tenant): field errors for the steps at
    /// those positions of the pipeline, empty when every tool exists and accepts its `with`.
    public var toolCheck: @Sendable ([PipelineStep], [Int], TenantID) async -> [FieldError]

    /// Creates the settings.
    public init(
        defaultTimezone: String = "UTC",
        toolCheck: @escaping @Sendable ([PipelineStep], [Int], TenantID) async -> [FieldError] = TaskSettings.noTools
    ) {
        self.defaultTimezone = defaultTimezone
        self.toolCheck = toolCheck
    }

    /// A tool check for a server without MCP servers: every non-built-in tool is unknown.
    public static let noTools: @Sendable ([PipelineStep], [Int], TenantID) async -> [FieldError] = {
        steps, indexes, _ in
        zip(steps, indexes).map { step, index in
            FieldError(
                pointer: "/payload/pipeline/\(index)/uses",
                message: "step '\(step.id)': '\(step.uses)' is not a tool: not a built-in ("
                    + BuiltInTools.names.sorted().joined(separator: ", ") + ") and no MCP server of the tenant")
        }
    }
}
