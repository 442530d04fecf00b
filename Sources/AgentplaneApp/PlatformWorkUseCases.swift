import AgentplaneCore
import AgentplaneStore
import Foundation

/// The steps the platform's workers take, through the same decisions and transactions as every
/// other change. Each step reads the current state and acts only if it still applies, so a run
/// delivered twice (at least once) or replayed does no harm.
extension UseCases {
    /// `pending → provisioning` (committed, so the step shows), or the instance as it is when it is
    /// already provisioning (a rescued run); nil when it is gone or in another state (stopped in the
    /// meantime): then there is nothing to provision.
    public func beginProvisioning(_ id: UUID, tenant: TenantID, by caller: Caller) async throws -> Instance? {
        guard let current = try await store.instances.find(tenant: tenant, id: id) else { return nil }
        switch current.status {
        case .provisioning: return current
        case .pending:
            let now = clock.now()
            let change = try InstanceDecisions.beginProvisioning(current, context: caller.eventContext, now: now)
            return try await save(change, current: current, by: caller, now: now)
        case .running, .failed, .stopped: return nil
        }
    }

    /// `provisioning → running | failed` with what provisioning found.
    public func finishProvisioning(_ current: Instance, _ outcome: ProvisioningOutcome, by caller: Caller)
        async throws -> Instance
    {
        let now = clock.now()
        let change = try InstanceDecisions.finishProvisioning(
            current, outcome, context: caller.eventContext, now: now)
        return try await save(change, current: current, by: caller, now: now)
    }

    /// When an instance's provisioning run ended `dead` (its workers kept stopping): the instance
    /// goes `failed` with `reason` instead of staying `pending` or `provisioning`.
    public func abandonProvisioning(_ id: UUID, tenant: TenantID, reason: String, by caller: Caller) async throws {
        guard let started = try await beginProvisioning(id, tenant: tenant, by: caller) else { return }
        _ = try await finishProvisioning(started, .problem(reason, retryable: false), by: caller)
    }

    /// Processes a queued entry: `queued → processing` committed first (so the step shows), then
    /// `processing → ready | failed`. A rescued run finds it `processing` and finishes it. Nil when
    /// the entry or its instance is gone; the entry as it is when it is not waiting for processing.
    public func processEntry(_ id: UUID, instance instanceID: UUID, tenant: TenantID, by caller: Caller)
        async throws -> KnowledgeBaseEntry?
    {
        guard let instance = try await store.instances.find(tenant: tenant, id: instanceID),
            var entry = try await store.knowledgeBase.find(tenant: tenant, instance: instanceID, id: id)
        else { return nil }
        while entry.status == .queued || entry.status == .processing {
            let now = clock.now()
            let change = try KnowledgeBaseDecisions.process(
                entry, in: instance, context: caller.eventContext, now: now)
            entry = try await saveStep(change, from: entry, by: caller, now: now)
        }
        return entry
    }

    /// When an entry's processing run ended `dead`: the entry goes `failed` with `reason` instead of
    /// staying `queued` or `processing`.
    public func abandonEntry(
        _ id: UUID, instance instanceID: UUID, tenant: TenantID, reason: String, by caller: Caller
    ) async throws {
        guard let instance = try await store.instances.find(tenant: tenant, id: instanceID),
            var entry = try await store.knowledgeBase.find(tenant: tenant, instance: instanceID, id: id)
        else { return }
        if entry.status == .queued {
            let now = clock.now()
            let change = try KnowledgeBaseDecisions.process(
                entry, in: instance, context: caller.eventContext, now: now)
            entry = try await saveStep(change, from: entry, by: caller, now: now)
        }
        guard entry.status == .processing else { return }
        let now = clock.now()
        let change = try KnowledgeBaseDecisions.abandon(
            entry, reason: reason, in: instance, context: caller.eventContext, now: now)
        _ = try await saveStep(change, from: entry, by: caller, now: now)
    }

    /// Cancels the runs about a deleted instance that have not started (its queued processing and
    /// provisioning runs); answers their ids.
    public func cancelRuns(ofDeletedInstance id: UUID, tenant: TenantID, by caller: Caller) async throws -> [UUID] {
        var cancelled: [UUID] = []
        for status in [RunStatus.queued, .failed] {
            var query = RunQuery(status: status, instanceID: id, limit: 500)
            while true {
                let page = try await store.runs.list(tenant: tenant, query: query)
                for run in page where run.request.kind != PlatformRuns.teardownInstance {
                    let now = clock.now()
                    let record = caller.record(
                        AuditedResource(tenant: tenant, type: "run", id: run.id.lowercasedString), status: 200,
                        events: [], at: now)
                    do {
                        _ = try await store.runs.cancel(tenant: tenant, id: run.id, now: now, record: record)
                        cancelled.append(run.id)
                    } catch let error as AgentplaneError where error.code == .illegalTransition {
                        continue  // it started or ended in the meantime
                    }
                }
                guard page.count == query.limit, let last = page.last else { break }
                query.before = last.id
            }
        }
        return cancelled
    }

    private func saveStep(
        _ change: Change<KnowledgeBaseEntry>, from current: KnowledgeBaseEntry, by caller: Caller, now: Timestamp
    ) async throws -> KnowledgeBaseEntry {
        try await store.knowledgeBase.update(
            change.state, expectedVersion: change.expectedVersion, from: current.status,
            records: [caller.record(Self.resource(current), status: 200, events: change.events, at: now)])
    }
}
