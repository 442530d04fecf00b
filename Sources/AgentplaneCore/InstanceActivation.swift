import Foundation

/// Whether an instance is registered behind the gateway (`/gateway/instances/{id}/…`, DESIGN §6), and since
/// when. Stored, so the route holds after a restart and on every node.
public struct InstanceActivation: Sendable, Hashable {
    /// The instance's tenant.
    public var tenantID: TenantID
    /// The instance.
    public var instanceID: UUID
    /// Whether the gateway route is registered.
    public var active: Bool
    /// When it was last activated.
    public var activatedAt: Timestamp?
    /// Who last activated it (`api_key:<prefix>`, `user:<id>`).
    public var activatedBy: String?
    /// When it was last deactivated.
    public var deactivatedAt: Timestamp?

    /// Creates an activation value.
    public init(
        tenantID: TenantID, instanceID: UUID, active: Bool, activatedAt: Timestamp?, activatedBy: String?,
        deactivatedAt: Timestamp?
    ) {
        self.tenantID = tenantID
        self.instanceID = instanceID
        self.active = active
        self.activatedAt = activatedAt
        self.activatedBy = activatedBy
        self.deactivatedAt = deactivatedAt
    }

    /// An instance never activated: inactive, no times.
    public static func never(_ instance: Instance) -> InstanceActivation {
        InstanceActivation(
            tenantID: instance.tenantID, instanceID: instance.id, active: false, activatedAt: nil, activatedBy: nil,
            deactivatedAt: nil)
    }

    /// The gateway path of the instance.
    public var route: String { Self.route(of: instanceID) }

    /// The gateway path of instance `id`.
    public static func route(of id: UUID) -> String { "/gateway/instances/\(id.lowercasedString)" }
}
