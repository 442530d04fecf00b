import AgentplaneCore
import Foundation

/// Which commands to list.
public struct CommandQuery: Sendable, Hashable {
    /// Only in this state.
    public var status: CommandStatus?
    /// Only asking this.
    public var action: CommandAction?
    /// Only older than this command (the cursor: newest first).
    public var before: UUID?
    /// Page size.
    public var limit: Int

    /// Creates a query.
    public init(status: CommandStatus? = nil, action: CommandAction? = nil, before: UUID? = nil, limit: Int = 100) {
        self.status = status
        self.action = action
        self.before = before
        self.limit = limit
    }
}

/// Persistence of commands. Their completion is written by the change they cause
/// (`ChangeRecord.commandCompletion`), in its transaction.
public protocol CommandStore: Sendable {
    /// Inserts the command with its record (its `command.accepted` event, audit row and processing run)
    /// unless the tenant already has a command with its request id: then nothing is written and the first
    /// command is answered (`created` false). Concurrent duplicates store one row.
    func submit(_ command: Command, record: ChangeRecord) async throws -> (command: Command, created: Bool)
    /// One command of the tenant.
    func find(tenant: TenantID, id: UUID) async throws -> Command?
    /// The tenant's commands matching `query`, newest first.
    func list(tenant: TenantID, query: CommandQuery) async throws -> [Command]
    /// A worker starts an attempt: `accepted | processing → processing`, attempts counted. Answers the
    /// command as it is now (unchanged when it is final), nil when there is none.
    func begin(tenant: TenantID, id: UUID, at now: Timestamp) async throws -> Command?
    /// Ends a command that is not final as `dead` with `error`, with the record (its `command.failed` event
    /// and audit row); answers false (nothing written) when it had already ended.
    func fail(tenant: TenantID, id: UUID, error: JSONValue, at now: Timestamp, record: ChangeRecord) async throws
        -> Bool
    /// `dead → accepted` with a new processing run (in the record) and the error cleared; throws `notFound`,
    /// or `staleVersion` when the command is not dead.
    func replay(tenant: TenantID, id: UUID, run: UUID, at now: Timestamp, record: ChangeRecord) async throws
}
