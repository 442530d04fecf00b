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
        var before: UUID?
        if let cursor = input.query.cursor {
            guard let id = UUID(canonical: cursor) else { throw Paging.badCursor }
            before = id
        }
        let query = RunQuery(
            kind: input.query.kind,
            status: input.query.status.flatMap { RunStatus(rawValue: $0.rawValue) },
            instanceID: try input.query.instanceId.map { try Self.queryUUID($0, "instance_id") },
            createdFrom: input.query.createdAfter.map(Timestamp.init),
            createdBefore: input.query.createdBefore.map(Timestamp.init),
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
        let (run, attempts) = try await useCases.run(
            try Self.id(input.path.runId, "run"), tenant: try Self.tenant(input.headers.xTenantID),
            for: try caller("getRun"))
        return .ok(
            .init(
                body: .json(
                    .init(
                        value1: .init(run),
                        value2: .init(attempts: attempts.map(Components.Schemas.RunAttempt.init))))))
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
            createdFrom: body.createdAfter.map(Timestamp.init),
            createdBefore: body.createdBefore.map(Timestamp.init),
            limit: body.limit ?? 100)
        let replayed = try await useCases.replayRuns(
            filter, tenant: try Self.tenant(input.headers.xTenantID), by: try caller("replayRuns"))
        return .ok(.init(body: .json(.init(replayed: replayed.map(\.lowercasedString)))))
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
            workerId: run.workerID,
            leaseExpiresAt: run.leaseExpiresAt?.date,
            cancelRequested: run.cancelRequested,
            result: run.result?.container,
            lastError: run.lastError,
            createdAt: request.createdAt.date,
            updatedAt: run.updatedAt.date,
            finishedAt: run.finishedAt?.date)
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
