import AgentplaneCore
import Foundation

/// An active instance with its activation, as the fleet-wide listing answers it.
public struct ActiveInstance: Sendable, Hashable {
    /// The activation (always `active`).
    public var activation: InstanceActivation
    /// The instance as stored.
    public var instance: Instance

    /// Creates the pair.
    public init(activation: InstanceActivation, instance: Instance) {
        self.activation = activation
        self.instance = instance
    }
}

/// Persistence of instances' gateway activations (one row per instance, removed with the instance).
public protocol InstanceActivationStore: Sendable {
    /// The activation of the tenant's instance; nil when it was never activated (or does not exist).
    func find(tenant: TenantID, instance: UUID) async throws -> InstanceActivation?
    /// Stores `activation` with its record in one transaction, unless the stored activation already has the
    /// same `active` (then nothing is written, the record neither, and the answer is false: a concurrent
    /// activation won). Throws `notFound` when the tenant has no such instance.
    func save(_ activation: InstanceActivation, record: ChangeRecord) async throws -> Bool
    /// Active instances of every tenant, ordered by instance id, after `after` (the last id of the previous
    /// page): a cheap read for health monitoring.
    func listActive(after: UUID?, limit: Int) async throws -> [ActiveInstance]
}
