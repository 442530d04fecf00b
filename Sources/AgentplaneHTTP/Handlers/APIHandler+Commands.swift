import AgentplaneAPI
import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import Foundation
import OpenAPIRuntime

extension APIHandler {
    func submitCommand(_ input: Operations.SubmitCommand.Input) async throws -> Operations.SubmitCommand.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let headers = input.headers
        let submit = SubmitCommand(
            action: body.action.rawValue, data: .object(Self.json(body.data)),
            requestID: try Self.merged("request_id", body.requestId, headers.requestId),
            correlationID: try Self.merged("correlation_id", body.correlationId, headers.correlationId),
            clientID: try Self.merged("client_id", body.clientId, headers.clientId),
            userID: try Self.merged("user_id", body.userId, headers.userId))
        let (command, created) = try await useCases.submitCommand(
            submit, tenant: try Self.tenant(headers.xTenantID), by: try caller("submitCommand"))
        let url = Self.statusURL(command)
        if created {
            return .accepted(.init(headers: .init(location: url), body: .json(.init(command))))
        }
        return .ok(.init(headers: .init(commandReplayed: "true", location: url), body: .json(.init(command))))
    }

    func listCommands(_ input: Operations.ListCommands.Input) async throws -> Operations.ListCommands.Output {
        let query = CommandQuery(
            status: input.query.status.flatMap { CommandStatus(rawValue: $0.rawValue) },
            action: input.query.action.flatMap { CommandAction(rawValue: $0.rawValue) },
            before: try input.query.cursor.map { cursor in
                guard let id = UUID(canonical: cursor) else { throw Paging.badCursor }
                return id
            },
            limit: try Paging.limit(input.query.limit))
        let page = try await useCases.listCommands(
            query, tenant: try Self.tenant(input.headers.xTenantID), for: try caller("listCommands"))
        return .ok(
            .init(
                body: .json(
                    .init(
                        commands: page.items.map(Components.Schemas.Command.init),
                        nextCursor: page.hasMore ? page.items.last?.id.lowercasedString : nil))))
    }

    func getCommand(_ input: Operations.GetCommand.Input) async throws -> Operations.GetCommand.Output {
        let command = try await useCases.command(
            try Self.id(input.path.commandId, "command"), tenant: try Self.tenant(input.headers.xTenantID),
            for: try caller("getCommand"))
        return .ok(.init(body: .json(.init(command))))
    }

    func replayCommand(_ input: Operations.ReplayCommand.Input) async throws -> Operations.ReplayCommand.Output {
        let command = try await useCases.replayCommand(
            try Self.id(input.path.commandId, "command"), tenant: try Self.tenant(input.headers.xTenantID),
            by: try caller("replayCommand"))
        return .ok(.init(body: .json(.init(command))))
    }

    /// A seed 000 field given as a body field, a header, or both (then they must agree: else 422 naming it).
    static func merged(_ name: String, _ body: String?, _ header: String?) throws -> String? {
        if let body, let header, body != header {
            throw AgentplaneError.validation([
                FieldError(pointer: "/\(name)", message: "differs from the \(name) header")
            ])
        }
        return body ?? header
    }

    static func statusURL(_ command: Command) -> String { "/api/v1/commands/\(command.id.lowercasedString)" }
}

extension Components.Schemas.Command {
    init(_ command: Command) {
        self.init(
            id: command.id.lowercasedString, tenantId: command.tenantID.description,
            action: .init(rawValue: command.action.rawValue)!, status: .init(rawValue: command.status.rawValue)!,
            data: APIHandler.object(command.data.objectValue ?? [:]), requestId: command.requestID,
            correlationId: command.correlationID, clientId: command.clientID, userId: command.userID,
            result: command.result.map { APIHandler.object($0.objectValue ?? [:]) },
            error: command.error.map { APIHandler.object($0.objectValue ?? [:]) },
            runId: command.runID.lowercasedString,
            attempts: command.attempts, statusUrl: APIHandler.statusURL(command), createdAt: command.createdAt.date,
            updatedAt: command.updatedAt.date, finishedAt: command.finishedAt?.date)
    }
}
