import AgentplaneCore
import AgentplaneStore
import Foundation

/// A command ended `dead` on a domain failure (its problem recorded): retrying cannot help.
public struct CommandRejected: Error, CustomStringConvertible {
    /// The failure.
    public var error: AgentplaneError

    public var description: String { "the command failed: \(error.description)" }
}

extension UseCases {
    /// Performs a command through the same use case as its HTTP route, acting as the principal that
    /// submitted it, with events that carry the command's id as cause and its correlation. The command's
    /// success commits with the change (exactly once: a command already ended is skipped, and a change whose
    /// command ended meanwhile is rolled back). A domain failure ends it `dead` at once and throws
    /// `CommandRejected`; any other error is thrown as is (the run retries).
    public func processCommand(_ id: UUID, tenant: TenantID) async throws -> JSONValue {
        guard let command = try await store.commands.begin(tenant: tenant, id: id, at: clock.now()) else {
            throw CommandRejected(error: AgentplaneError(.notFound, "No such command."))
        }
        if command.status.isFinal { return Self.skipped(command) }
        let caller = Self.caller(for: command, completing: true)
        do {
            switch try CommandDecisions.input(command.action, command.data) {
            case .create(let create):
                _ = try await createInstance(create, tenant: command.tenantID, by: caller)
            case .update(let instance, let update):
                _ = try await updateInstance(instance, update, tenant: command.tenantID, by: caller)
            case .delete(let instance):
                try await deleteInstance(instance, tenant: command.tenantID, by: caller)
            }
        } catch {
            // An earlier attempt, or another worker, may have completed it: then nothing is left to do.
            if let now = try await store.commands.find(tenant: tenant, id: id), now.status.isFinal {
                return Self.skipped(now)
            }
            guard let rejection = Self.domainFailure(error) else { throw error }
            _ = try await failCommand(command, problem: CommandDecisions.problem(rejection))
            throw CommandRejected(error: rejection)
        }
        return ["command_id": .string(id.lowercasedString), "status": .string(CommandStatus.succeeded.rawValue)]
    }

    /// Ends a command whose processing gave up (its run is dead) as `dead`, unless it has ended.
    public func abandonCommand(_ id: UUID, tenant: TenantID, reason: String) async throws {
        guard let command = try await store.commands.find(tenant: tenant, id: id), !command.status.isFinal else {
            return
        }
        _ = try await failCommand(
            command,
            problem: CommandDecisions.problem(AgentplaneError(.internalError, "Processing gave up: \(reason)")))
    }

    /// `dead` with `problem`, `command.failed` and a failure audit row, in one transaction.
    func failCommand(_ command: Command, problem: JSONValue) async throws -> Bool {
        let caller = Self.caller(for: command, completing: false)
        let now = clock.now()
        var dead = command
        dead.status = .dead
        dead.error = problem
        var status = 500
        if case .int(let code)? = problem["status"] { status = Int(code) }
        return try await store.commands.fail(
            tenant: command.tenantID, id: command.id, error: problem, at: now,
            record: ChangeRecord(
                events: [Events.command(.commandFailed, dead, context: caller.eventContext, at: now)],
                audit: caller.audit(Self.resource(command), outcome: .failure, status: status, at: now)))
    }

    /// The caller a command's processing acts as.
    static func caller(for command: Command, completing: Bool) -> Caller {
        var caller = Caller(
            principal: command.principal, operation: "command.\(command.action.rawValue)",
            requestID: command.requestID)
        caller.causationID = command.id.lowercasedString
        caller.correlationID = command.correlationID
        caller.onBehalfOf = command.userID
        caller.completing = completing ? command : nil
        return caller
    }

    /// The error as a final failure of the command, or nil when a retry may succeed.
    static func domainFailure(_ error: any Error) -> AgentplaneError? {
        switch error {
        case let error as AgentplaneError:
            return error.code.status < 500 ? error : nil
        case let error as StoreError:
            switch error.kind {
            case .notFound: return AgentplaneError(.notFound, error.description)
            case .staleVersion: return AgentplaneError(.preconditionFailed, error.description)
            case .uniqueViolation: return AgentplaneError(.conflict, error.description)
            case .quotaExceeded(let limit):
                return AgentplaneError(
                    .quotaExceeded, "The tenant has its \(limit) instances.", details: ["limit": .int(Int64(limit))])
            default: return nil
            }
        default:
            return nil
        }
    }

    static func skipped(_ command: Command) -> JSONValue {
        [
            "command_id": .string(command.id.lowercasedString), "status": .string(command.status.rawValue),
            "skipped": "the command had already ended",
        ]
    }
}
