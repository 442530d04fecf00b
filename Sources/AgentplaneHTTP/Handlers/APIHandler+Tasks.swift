import AgentplaneAPI
import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import Foundation
import OpenAPIRuntime

extension APIHandler {
    func createTask(_ input: Operations.CreateTask.Input) async throws -> Operations.CreateTask.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let fields = TaskFields(
            title: body.title, description: body.description, scheduleKind: body.scheduleKind.rawValue,
            scheduleExpr: body.scheduleExpr, timezone: body.timezone, payload: Self.json(body.payload),
            priority: body.priority, dedupeKey: body.dedupeKey, dedupeWindowSeconds: body.dedupeWindowSeconds,
            maxRetries: body.maxRetries, backoffStrategy: body.backoffStrategy?.rawValue,
            concurrencyKey: body.concurrencyKey, createdBy: body.createdBy, instanceID: body.instanceId,
            misfirePolicy: body.misfirePolicy?.rawValue)
        let task = try await useCases.createTask(
            fields, tenant: try Self.tenant(input.headers.xTenantID), by: try caller("createTask"))
        return .created(.init(headers: .init(eTag: Self.etag(task.version)), body: .json(.init(task))))
    }

    func listTasks(_ input: Operations.ListTasks.Input) async throws -> Operations.ListTasks.Output {
        let limit = try Paging.limit(input.query.limit)
        var after: UUID?
        if let cursor = input.query.cursor {
            guard let id = UUID(canonical: cursor) else { throw Paging.badCursor }
            after = id
        }
        let query = TaskQuery(
            status: input.query.status.flatMap { TaskStatus(rawValue: $0.rawValue) },
            createdBy: input.query.createdBy, scheduleKind: input.query.scheduleKind?.rawValue, after: after,
            limit: limit)
        let page = try await useCases.listTasks(
            query, tenant: try Self.tenant(input.headers.xTenantID), for: try caller("listTasks"))
        return .ok(
            .init(
                body: .json(
                    .init(
                        tasks: page.items.map(Components.Schemas.Task.init),
                        nextCursor: page.hasMore ? page.items.last?.id.lowercasedString : nil))))
    }

    func getTask(_ input: Operations.GetTask.Input) async throws -> Operations.GetTask.Output {
        let task = try await useCases.task(
            try Self.id(input.path.taskId, "task"), tenant: try Self.tenant(input.headers.xTenantID),
            for: try caller("getTask"))
        return .ok(.init(headers: .init(eTag: Self.etag(task.version)), body: .json(.init(task))))
    }

    func updateTask(_ input: Operations.UpdateTask.Input) async throws -> Operations.UpdateTask.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let fields = TaskFields(
            title: body.title, description: body.description, scheduleKind: body.scheduleKind?.rawValue,
            scheduleExpr: body.scheduleExpr, timezone: body.timezone, payload: body.payload.map(Self.json),
            priority: body.priority, dedupeKey: body.dedupeKey, dedupeWindowSeconds: body.dedupeWindowSeconds,
            maxRetries: body.maxRetries, backoffStrategy: body.backoffStrategy?.rawValue,
            concurrencyKey: body.concurrencyKey, createdBy: body.createdBy, instanceID: body.instanceId,
            misfirePolicy: body.misfirePolicy?.rawValue,
            expectedVersion: try input.headers.ifMatch.map(Self.version(fromETag:)))
        let task = try await useCases.updateTask(
            try Self.id(input.path.taskId, "task"), fields, tenant: try Self.tenant(input.headers.xTenantID),
            by: try caller("updateTask"))
        return .ok(.init(headers: .init(eTag: Self.etag(task.version)), body: .json(.init(task))))
    }

    func deleteTask(_ input: Operations.DeleteTask.Input) async throws -> Operations.DeleteTask.Output {
        try await useCases.deleteTask(
            try Self.id(input.path.taskId, "task"), tenant: try Self.tenant(input.headers.xTenantID),
            by: try caller("deleteTask"))
        return .noContent(.init())
    }

    func runTaskNow(_ input: Operations.RunTaskNow.Input) async throws -> Operations.RunTaskNow.Output {
        let run = try await useCases.runTaskNow(
            try Self.id(input.path.taskId, "task"), tenant: try Self.tenant(input.headers.xTenantID),
            by: try caller("runTaskNow"))
        return .accepted(.init(body: .json(.init(run))))
    }

    func snoozeTask(_ input: Operations.SnoozeTask.Input) async throws -> Operations.SnoozeTask.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let task = try await useCases.snoozeTask(
            try Self.id(input.path.taskId, "task"), seconds: body.seconds,
            expectedVersion: try input.headers.ifMatch.map(Self.version(fromETag:)),
            tenant: try Self.tenant(input.headers.xTenantID), by: try caller("snoozeTask"))
        return .ok(.init(headers: .init(eTag: Self.etag(task.version)), body: .json(.init(task))))
    }

    func pauseTask(_ input: Operations.PauseTask.Input) async throws -> Operations.PauseTask.Output {
        let task = try await transitionTask(
            input.path.taskId, to: .paused, ifMatch: input.headers.ifMatch, tenant: input.headers.xTenantID,
            operation: "pauseTask")
        return .ok(.init(headers: .init(eTag: Self.etag(task.version)), body: .json(.init(task))))
    }

    func resumeTask(_ input: Operations.ResumeTask.Input) async throws -> Operations.ResumeTask.Output {
        let task = try await transitionTask(
            input.path.taskId, to: .active, ifMatch: input.headers.ifMatch, tenant: input.headers.xTenantID,
            operation: "resumeTask")
        return .ok(.init(headers: .init(eTag: Self.etag(task.version)), body: .json(.init(task))))
    }

    func cancelTask(_ input: Operations.CancelTask.Input) async throws -> Operations.CancelTask.Output {
        let task = try await transitionTask(
            input.path.taskId, to: .cancelled, ifMatch: input.headers.ifMatch, tenant: input.headers.xTenantID,
            operation: "cancelTask")
        return .ok(.init(headers: .init(eTag: Self.etag(task.version)), body: .json(.init(task))))
    }

    func previewSchedule(_ input: Operations.PreviewSchedule.Input) async throws -> Operations.PreviewSchedule.Output {
        _ = try caller("previewSchedule")
        let query = input.query
        let after = try query.after.map { try Self.instant($0, "after", inQuery: true) }
        let times: [Timestamp]
        do {
            times = try useCases.previewSchedule(
                kind: query.scheduleKind.rawValue, expression: query.scheduleExpr, timezone: query.timezone,
                after: after, count: query.count ?? 10)
        } catch let error as AgentplaneError where error.code == .validationFailed {
            // Query parameters are a 400, like every other bad query of this API.
            throw AgentplaneError.badQuery(error.fieldErrors)
        }
        return .ok(.init(body: .json(.init(fireTimes: times.map(\.date)))))
    }

    private func transitionTask(
        _ id: String, to status: TaskStatus, ifMatch: String?, tenant: String?, operation: String
    ) async throws -> AgentTask {
        try await useCases.transitionTask(
            try Self.id(id, "task"), to: status, expectedVersion: try ifMatch.map(Self.version(fromETag:)),
            tenant: try Self.tenant(tenant), by: try caller(operation))
    }
}

extension Components.Schemas.Task {
    init(_ task: AgentTask) {
        self.init(
            id: task.id.lowercasedString,
            tenantId: task.tenantID.description,
            title: task.title,
            description: task.description,
            scheduleKind: .init(rawValue: task.scheduleKind) ?? .cron,
            scheduleExpr: task.scheduleExpr,
            timezone: task.timezone,
            payload: APIHandler.object(task.payload),
            priority: task.priority,
            dedupeKey: task.dedupeKey,
            dedupeWindowSeconds: task.dedupeWindowSeconds,
            maxRetries: task.maxRetries,
            backoffStrategy: .init(rawValue: task.backoffStrategy.rawValue)!,
            concurrencyKey: task.concurrencyKey,
            createdBy: task.createdBy,
            calledBy: task.calledBy,
            instanceId: task.instanceID?.lowercasedString,
            misfirePolicy: .init(rawValue: task.misfirePolicy.rawValue)!,
            status: .init(rawValue: task.status.rawValue)!,
            nextRunAt: task.nextRunAt?.date,
            lastRunAt: task.lastRunAt?.date,
            version: Int(task.version),
            createdAt: task.createdAt.date,
            updatedAt: task.updatedAt.date)
    }
}
