import AgentplaneCore
import Foundation

/// The order instances are listed in.
public enum InstanceSort: String, Sendable, Hashable, CaseIterable {
    /// Oldest first (ids are time-ordered).
    case createdAt = "created_at"
    /// By name, then id.
    case name
}

/// Which instances to list.
public struct InstanceQuery: Sendable, Hashable {
    /// The order.
    public var sort: InstanceSort
    /// Only after this instance in that order (the cursor).
    public var after: UUID?
    /// With `sort == .name`: the name of the `after` instance.
    public var afterName: String?
    /// Page size.
    public var limit: Int
    /// Only in this state.
    public var status: InstanceStatus?
    /// Only made from this agent.
    public var agentID: UUID?
    /// Only in this project.
    public var projectID: String?
    /// Only owned by this principal.
    public var ownerUserID: String?

    /// Creates a query.
    public init(
        sort: InstanceSort = .createdAt,
        after: UUID? = nil,
        afterName: String? = nil,
        limit: Int = 100,
        status: InstanceStatus? = nil,
        agentID: UUID? = nil,
        projectID: String? = nil,
        ownerUserID: String? = nil
    ) {
        self.sort = sort
        self.after = after
        self.afterName = afterName
        self.limit = limit
        self.status = status
        self.agentID = agentID
        self.projectID = projectID
        self.ownerUserID = ownerUserID
    }
}

/// Persistence of instances and their knowledge bases.
public protocol InstanceStore: Sendable {
    /// Inserts the instance and its knowledge base in one transaction, unless the tenant already has
    /// its `max_instances` (read from the tenant row in the counter's own statement; the per-tenant
    /// counter is exact under concurrent creates and deletes, and no create waits on it for longer than
    /// another's commit): then throws `quotaExceeded`, or `notFound` when the tenant does not exist.
    func create(_ instance: Instance, record: ChangeRecord) async throws
    /// One instance of the tenant.
    func find(tenant: TenantID, id: UUID) async throws -> Instance?
    /// The tenant's instances matching `query`.
    func list(tenant: TenantID, query: InstanceQuery) async throws -> [Instance]
    /// Replaces name, configuration and status when the stored version is `expectedVersion` and the
    /// stored status is `from`. A status change must be one the lifecycle allows (the worker and the
    /// API go through this same check). Throws `notFound`, `staleVersion`, or the 409
    /// `AgentplaneError` naming both states.
    func update(_ instance: Instance, expectedVersion: Int64, from: InstanceStatus, record: ChangeRecord) async throws
        -> Instance
    /// Deletes the instance with its knowledge base; throws `notFound`.
    func delete(tenant: TenantID, id: UUID, record: ChangeRecord) async throws
}
