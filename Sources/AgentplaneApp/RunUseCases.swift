import AgentplaneCore
import AgentplaneStore
import Foundation

/// Which runs a bulk replay sends back to the queue.
public struct RunReplayFilter: Sendable, Hashable {
    /// `dead` (the default) or `failed`.
    public var status: RunStatus
    /// Only this kind.
    public var kind: String?
    /// Only about this instance.
    public var instanceID: UUID?
    /// Created at or after.
    public var createdFrom: Timestamp?
    /// Created before.
    public var createdBefore: Timestamp?
    /// At most this many (1…1000).
    public var limit: Int

    /// Creates a filter.
    public init(
        status: RunStatus = .dead, kind: String? = nil, instanceID: UUID? = nil, createdFrom: Timestamp? = nil,
        createdBefore: Timestamp? = nil, limit: Int = 100
    ) {
        self.status = status
        self.kind = kind
        self.instanceID = instanceID
        self.createdFrom = createdFrom
        self.createdBefore = createdBefore
        self.limit = limit
    }
}

extension UseCases {
    /// The tenant's runs matching `query`, newest first (asked with one extra row).
    public func listRuns(_ query: RunQuery, tenant named: TenantID?, for caller: Caller) async throws -> Page<Run> {
        let tenant = try await actingTenant(named, for: caller)
        var probe = query
        probe.limit += 1
        return Page(fetched: try await store.runs.list(tenant: tenant, query: probe), limit: query.limit)
    }

    /// One run of the acting tenant with its attempts and step logs (else 404).
    public func run(_ id: UUID, tenant named: TenantID?, for caller: Caller) async throws -> (
        Run, [RunAttempt], [StepLog]
    ) {
        let tenant = try await actingTenant(named, for: caller)
        guard let run = try await store.runs.find(tenant: tenant, id: id) else {
            throw AgentplaneError(.notFound, "No such run.")
        }
        return (
            run, try await store.runs.attempts(tenant: tenant, id: id),
            try await store.runs.steps(tenant: tenant, run: id)
        )
    }

    /// Cancels a run (a running one is asked to stop; 409 for one that has ended).
    public func cancelRun(_ id: UUID, tenant named: TenantID?, by caller: Caller) async throws -> Run {
        let tenant = try await actingTenant(named, for: caller)
        let now = clock.now()
        return try await store.runs.cancel(
            tenant: tenant, id: id, now: now,
            record: caller.record(Self.resource(id, tenant), status: 200, events: [], at: now))
    }

    /// Sends a dead or failed run back to the queue (409 for any other state).
    public func replayRun(_ id: UUID, tenant named: TenantID?, by caller: Caller) async throws -> Run {
        let tenant = try await actingTenant(named, for: caller)
        let now = clock.now()
        return try await store.runs.replay(
            tenant: tenant, id: id, now: now,
            record: caller.record(Self.resource(id, tenant), status: 200, events: [], at: now))
    }

    /// Replays up to `filter.limit` matching runs, newest first; answers the ids replayed (a run that
    /// changed state in the meantime is skipped).
    public func replayRuns(_ filter: RunReplayFilter, tenant named: TenantID?, by caller: Caller) async throws
        -> [UUID]
    {
        var errors: [FieldError] = []
        if filter.status != .dead && filter.status != .failed {
            errors.append(FieldError(pointer: "/status", message: "must be dead or failed"))
        }
        if !(1...1000).contains(filter.limit) {
            errors.append(FieldError(pointer: "/limit", message: "must be between 1 and 1000"))
        }
        if let kind = filter.kind, !NewRun.isValidKind(kind) {
            errors.append(FieldError(pointer: "/kind", message: "must be 1 to 100 characters of a-z 0-9 . _ -"))
        }
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        let tenant = try await actingTenant(named, for: caller)
        var replayed: [UUID] = []
        var query = RunQuery(
            kind: filter.kind, status: filter.status, instanceID: filter.instanceID, createdFrom: filter.createdFrom,
            createdBefore: filter.createdBefore, limit: min(filter.limit, 500))
        pages: while replayed.count < filter.limit {
            let page = try await store.runs.list(tenant: tenant, query: query)
            for run in page {
                guard replayed.count < filter.limit else { break pages }
                do {
                    replayed.append(try await replayRun(run.id, tenant: tenant, by: caller).id)
                } catch let error as AgentplaneError where error.code == .illegalTransition || error.code == .notFound {
                    continue
                }
            }
            guard page.count == query.limit, let last = page.last else { break }
            query.before = last.id
        }
        return replayed
    }

    static func resource(_ run: UUID, _ tenant: TenantID) -> AuditedResource {
        AuditedResource(tenant: tenant, type: "run", id: run.lowercasedString)
    }
}
