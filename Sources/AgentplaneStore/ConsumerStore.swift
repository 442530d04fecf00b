import AgentplaneCore

/// Persistence of named consumers and their committed offsets.
public protocol ConsumerStore: Sendable {
    /// Inserts a consumer; a name the tenant already uses is `uniqueViolation(.consumerName)`.
    func create(_ consumer: Consumer, record: ChangeRecord) async throws
    /// One consumer of the tenant, by name.
    func find(tenant: TenantID, name: String) async throws -> Consumer?
    /// The tenant's consumers by name, after `after`.
    func list(tenant: TenantID, after: String?, limit: Int) async throws -> [Consumer]
    /// Every tenant's consumers, by tenant and name, at most `limit` (the lag monitor's reading).
    func listAll(limit: Int) async throws -> [Consumer]
    /// Commits `consumer.offset` when the stored version is `expectedVersion` (so two acks racing cannot
    /// both move it); throws `notFound` or `staleVersion`.
    func commit(_ consumer: Consumer, expectedVersion: Int64, record: ChangeRecord) async throws
    /// Deletes a consumer; throws `notFound`.
    func delete(tenant: TenantID, name: String, record: ChangeRecord) async throws
    /// How many of the tenant's events a reader may see now lie after `offset`, counted up to `cap`.
    func lag(tenant: TenantID, after offset: EventPosition, cap: Int) async throws -> Int
}
