import Foundation

/// A tenant's configured agent (seed names: persona instance, agent_instance, instances row).
public struct Instance: Sendable, Hashable, Identifiable {
    /// Row id.
    public var id: UUID
    /// Owning tenant.
    public var tenantID: TenantID
    /// The catalog agent it was made from.
    public var agentID: UUID
    /// The principal that created it (`user:<id>` or `api_key:<prefix>`).
    public var ownerUserID: String
    /// Optional grouping.
    public var projectID: String?
    /// Display name.
    public var name: String
    /// The overrides the tenant set.
    public var userConfig: [String: JSONValue]
    /// Effective configuration: the agent's defaults merged with `userConfig`, at the last write.
    public var config: [String: JSONValue]
    /// Declarative pipeline settings, opaque here.
    public var pipelineConfig: JSONValue
    /// Lifecycle state.
    public var status: InstanceStatus
    /// Why it is in its state, as provisioning recorded it (what failed, or what was checked).
    public var statusReason: String?
    /// Optimistic-concurrency version.
    public var version: Int64
    /// Created.
    public var createdAt: Timestamp
    /// Last changed.
    public var updatedAt: Timestamp

    /// Whether the instance is serving (seed 000's `is_active`).
    public var isActive: Bool { status == .running || status == .pending || status == .provisioning }

    /// Creates an instance value.
    public init(
        id: UUID,
        tenantID: TenantID,
        agentID: UUID,
        ownerUserID: String,
        projectID: String?,
        name: String,
        userConfig: [String: JSONValue],
        config: [String: JSONValue],
        pipelineConfig: JSONValue,
        status: InstanceStatus,
        statusReason: String? = nil,
        version: Int64,
        createdAt: Timestamp,
        updatedAt: Timestamp
    ) {
        self.id = id
        self.tenantID = tenantID
        self.agentID = agentID
        self.ownerUserID = ownerUserID
        self.projectID = projectID
        self.name = name
        self.userConfig = userConfig
        self.config = config
        self.pipelineConfig = pipelineConfig
        self.status = status
        self.statusReason = statusReason
        self.version = version
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
