import AgentplaneAPI
import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import Foundation
import OpenAPIRuntime

extension APIHandler {
    func listRuns(_ input: Operations.ListRuns.Input) async throws -> Operations.ListRuns.Output {
        let caller = try caller("listRuns")
        let limit = try Paging.limit(input.query.limit)
        if let kind = input.query.kind, !NewRun.isValidKind(kind) {
            throw AgentplaneError.badQuery([
                FieldError(pointer: "kind", message: "must be 1 to 100 characters of a-z 0-9 . _ -")
            ])
        }
        var before: UUID?
        if let cursor = input.query.cursor {
            guard let id = UUID(canonical: cursor) else { throw Paging.badCursor }
            before = id
        }
        let query = RunQuery(
            kind: input.query.kind,
            status: input.query.status.flatMap { RunStatus(rawValue: $0.rawValue) },
            instanceID: try input.query.instanceId.map { try Self.queryUUID($0, "instance_id") },
            taskID: try input.query.taskId.map { try Self.queryUUID($0, "task_id") },
            createdFrom: try input.query.createdAfter.map { try Self.instant($0, "created_after", inQuery: true) },
            createdBefore: try input.query.createdBefore.map { try Self.instant($0, "created_before", inQuery: true) },
            before: before,
            limit: limit)
        let page = try await useCases.listRuns(query, tenant: try Self.tenant(input.headers.xTenantID), for: caller)
        return .ok(
            .init(
                body: .json(
                    .init(
                        runs: page.items.map(Components.Schemas.Run.init),
                        nextCursor: page.hasMore ? page.items.last?.id.lowercasedString : nil))))
    }

    func getRun(_ input: Operations.GetRun.Input) async throws -> Operations.GetRun.Output {
        let (run, attempts, steps) = try await useCases.run(
            try Self.id(input.path.runId, "run"), tenant: try Self.tenant(input.headers.xTenantID),
            for: try caller("getRun"))
        return .ok(
            .init(
                body: .json(
                    .init(
                        value1: .init(run),
                        value2: .init(
                            attempts: attempts.map(Components.Schemas.RunAttempt.init),
                            steps: steps.map(Components.Schemas.StepLog.init))))))
    }

    func cancelRun(_ input: Operations.CancelRun.Input) async throws -> Operations.CancelRun.Output {
        let run = try await useCases.cancelRun(
            try Self.id(input.path.runId, "run"), tenant: try Self.tenant(input.headers.xTenantID),
            by: try caller("cancelRun"))
        return .ok(.init(body: .json(.init(run))))
    }

    func replayRun(_ input: Operations.ReplayRun.Input) async throws -> Operations.ReplayRun.Output {
        let run = try await useCases.replayRun(
            try Self.id(input.path.runId, "run"), tenant: try Self.tenant(input.headers.xTenantID),
            by: try caller("replayRun"))
        return .ok(.init(body: .json(.init(run))))
    }

    func replayRuns(_ input: Operations.ReplayRuns.Input) async throws -> Operations.ReplayRuns.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let filter = RunReplayFilter(
            status: body.status.flatMap { RunStatus(rawValue: $0.rawValue) } ?? .dead,
            kind: body.kind,
            instanceID: try body.instanceId.map { try Self.bodyUUID($0, "/instance_id") },
            createdFrom: try body.createdAfter.map { try Self.instant($0, "/created_after", inQuery: false) },
            createdBefore: try body.createdBefore.map { try Self.instant($0, "/created_before", inQuery: false) },
            limit: body.limit ?? 100)
        let replayed = try await useCases.replayRuns(
            filter, tenant: try Self.tenant(input.headers.xTenantID), by: try caller("replayRuns"))
        return .ok(.init(body: .json(.init(replayed: replayed.map(\.lowercasedString)))))
    }

    /// An RFC 3339 instant; 400 (query) or 422 (body) naming the field otherwise.
    static func instant(_ text: String, _ field: String, inQuery: Bool) throws -> Timestamp {
        guard let instant = Timestamp(rfc3339: text) else {
            let error = FieldError(
                pointer: field, message: "must be an RFC 3339 date-time such as 2026-01-31T12:00:00Z")
            throw inQuery ? AgentplaneError.badQuery([error]) : AgentplaneError.validation([error])
        }
        return instant
    }

    /// A UUID in the query string; 400 naming the parameter otherwise.
    static func queryUUID(_ text: String, _ name: String) throws -> UUID {
        guard let id = UUID(canonical: text) else {
            throw AgentplaneError.badQuery([FieldError(pointer: name, message: "must be a UUID")])
        }
        return id
    }

    /// A UUID in the body; 422 naming the field otherwise.
    static func bodyUUID(_ text: String, _ pointer: String) throws -> UUID {
        guard let id = UUID(canonical: text) else {
            throw AgentplaneError.validation([FieldError(pointer: pointer, message: "must be a UUID")])
        }
        return id
    }
}

extension Components.Schemas.Run {
    init(_ run: Run) {
        let request = run.request
        self.init(
            id: run.id.lowercasedString,
            tenantId: request.tenantID.description,
            kind: request.kind,
            status: .init(rawValue: run.status.rawValue)!,
            arguments: APIHandler.object(request.arguments),
            priority: request.priority,
            runAt: request.runAt.date,
            attempt: run.attempt,
            maxAttempts: request.maxAttempts,
            backoff: .init(
                strategy: .init(rawValue: request.backoff.strategy.rawValue)!,
                baseSeconds: request.backoff.baseSeconds, capSeconds: request.backoff.capSeconds),
            dedupeKey: request.dedupeKey,
            dedupeUntil: request.dedupeUntil?.date,
            concurrencyKey: request.concurrencyKey,
            concurrencyLimit: request.concurrencyLimit,
            instanceId: request.instanceID?.lowercasedString,
            taskId: request.taskID?.lowercasedString,
            workerId: run.workerID,
            leaseExpiresAt: run.leaseExpiresAt?.date,
            cancelRequested: run.cancelRequested,
            result: run.result?.container,
            output: request.kind == InstanceRuns.kind ? run.result?["output"]?.container : nil,
            usage: request.kind == InstanceRuns.kind ? Self.usage(run.result?["usage"]) : nil,
            lastError: run.lastError,
            createdAt: request.createdAt.date,
            updatedAt: run.updatedAt.date,
            finishedAt: run.finishedAt?.date)
    }
}

extension Components.Schemas.Run {
    /// An instance run's `result.usage`, when the model reported one.
    static func usage(_ value: JSONValue?) -> Components.Schemas.Run.UsagePayload? {
        guard let usage = value?.objectValue else { return nil }
        func count(_ key: String) -> Int? { usage[key]?.numberValue.map { Int($0) } }
        return .init(
            promptTokens: count("prompt_tokens"), completionTokens: count("completion_tokens"),
            totalTokens: count("total_tokens"))
    }
}

extension Components.Schemas.StepLog {
    init(_ step: AgentplaneCore.StepLog) {
        self.init(
            attempt: step.attempt, position: step.position, stepId: step.stepID, uses: step.uses,
            outcome: .init(rawValue: step.outcome.rawValue)!, input: step.input?.container,
            output: step.output?.container, error: step.error, calls: step.calls, startedAt: step.startedAt.date,
            durationMs: Double(step.durationMicroseconds) / 1000)
    }
}

extension Components.Schemas.RunAttempt {
    init(_ attempt: RunAttempt) {
        self.init(
            number: attempt.number,
            workerId: attempt.workerID,
            startedAt: attempt.startedAt.date,
            endedAt: attempt.endedAt?.date,
            outcome: .init(rawValue: attempt.outcome.rawValue)!,
            error: attempt.error,
            durationMs: attempt.endedAt.map {
                Double($0.microsecondsSinceEpoch - attempt.startedAt.microsecondsSinceEpoch) / 1000
            })
    }
}
