import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging

/// The handler of `command.process` runs: performs the command through the use cases (`processCommand`).
/// A domain failure ends the run `dead` at once (the command is already `dead` with its problem); any other
/// error is retried with the run's backoff, and when the attempts are spent the command ends `dead` too.
public struct CommandWork: Sendable {
    let useCases: UseCases

    /// Creates the handler.
    public init(useCases: UseCases) {
        self.useCases = useCases
    }

    /// The handler by run kind.
    public var handlers: [String: RunHandler] {
        [Command.runKind: { try await self.process($0.run) }]
    }

    /// A command whose run ended `dead` ends `dead` too.
    public var deadHandlers: [String: DeadRunHandler] {
        [
            Command.runKind: { run, error in
                try await useCases.abandonCommand(
                    try PlatformRuns.uuid("command_id", of: run), tenant: run.request.tenantID,
                    reason: "\(run.roundAttempts) attempts failed")
            }
        ]
    }

    func process(_ run: Run) async throws -> JSONValue {
        let id: UUID
        do {
            id = try PlatformRuns.uuid("command_id", of: run)
        } catch {
            throw PermanentRunFailure("\(error)")
        }
        do {
            return try await useCases.processCommand(id, tenant: run.request.tenantID)
        } catch let rejected as CommandRejected {
            throw PermanentRunFailure(rejected.description)
        }
    }
}
