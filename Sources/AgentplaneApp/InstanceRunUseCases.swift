import AgentplaneCore
import AgentplaneStore
import Foundation

extension UseCases {
    /// Starts a run of an instance (DESIGN §6): the instance must be `running` and declare a runtime; the run
    /// is enqueued on the job engine with its `run.queued` event (the queue's own transaction, which wakes the
    /// workers at once). The run records who asked (`arguments.requested_by`).
    public func startInstanceRun(
        _ id: UUID, _ request: StartInstanceRun, tenant named: TenantID?, by caller: Caller
    ) async throws -> Run {
        let errors = InstanceRuns.errors(request)
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        let instance = try await instance(id, tenant: named, for: caller)
        let runtime = try InstanceRuns.runtime(of: instance)
        let after = try await store.events.latestPosition(tenant: instance.tenantID)
        let run = InstanceRuns.newRun(
            request, instance: instance, runtime: runtime, requestedBy: caller.principal.subject, streamAfter: after,
            now: clock.now())
        guard let queued = try await store.runs.enqueue([run]).first else {
            throw AgentplaneError(.internalError, "The run was not enqueued.")
        }
        return queued
    }

    /// The instance's runs (kind `instance.run`), newest first; 404 for an instance the tenant does not have.
    public func instanceRuns(_ id: UUID, query: RunQuery, tenant named: TenantID?, for caller: Caller) async throws
        -> Page<Run>
    {
        let instance = try await instance(id, tenant: named, for: caller)
        var query = query
        query.instanceID = instance.id
        query.kind = InstanceRuns.kind
        return try await listRuns(query, tenant: instance.tenantID, for: caller)
    }

    /// One run of the instance with its attempts and step logs (404 when the run is not this instance's).
    public func instanceRun(_ id: UUID, run runID: UUID, tenant named: TenantID?, for caller: Caller) async throws
        -> (Run, [RunAttempt], [StepLog])
    {
        let instance = try await instance(id, tenant: named, for: caller)
        let found = try await run(runID, tenant: instance.tenantID, for: caller)
        guard found.0.request.instanceID == instance.id, found.0.request.kind == InstanceRuns.kind else {
            throw AgentplaneError(.notFound, "No such run of this instance.")
        }
        return found
    }

    /// Cancels a run of the instance (as `POST /api/v1/runs/{id}/cancel`).
    public func cancelInstanceRun(_ id: UUID, run runID: UUID, tenant named: TenantID?, by caller: Caller)
        async throws -> Run
    {
        let (run, _, _) = try await instanceRun(id, run: runID, tenant: named, for: caller)
        return try await cancelRun(run.id, tenant: run.request.tenantID, by: caller)
    }
}
