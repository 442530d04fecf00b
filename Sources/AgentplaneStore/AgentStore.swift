import AgentplaneCore
import Foundation

/// The platform's agent catalog. Changes record events in the platform tenant's log and an audit row.
public protocol AgentStore: Sendable {
    /// Inserts an agent; `uniqueViolation("agents_type")` or `("agents_activation_code")` when taken.
    func create(_ agent: Agent, record: ChangeRecord) async throws
    /// The agent, deleted ones included only when asked.
    func find(id: UUID, includeDeleted: Bool) async throws -> Agent?
    /// Live agents ordered by id after `after`; only active ones unless `includeInactive`.
    func list(after: UUID?, limit: Int, includeInactive: Bool) async throws -> [Agent]
    /// Replaces the agent when the stored version is `expectedVersion`, keeping the previous version
    /// readable; returns the new state. Throws `notFound` or `staleVersion`.
    func update(_ agent: Agent, expectedVersion: Int64, record: ChangeRecord) async throws -> Agent
    /// Soft-deletes the agent; throws `notFound`.
    func delete(id: UUID, at time: Timestamp, record: ChangeRecord) async throws
    /// Every version of the agent, newest first (the current one included).
    func versions(id: UUID) async throws -> [Agent]
}
