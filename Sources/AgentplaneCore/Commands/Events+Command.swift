import Foundation

extension Events {
    /// A `command.*` event: the command's state after the change (`result` once succeeded, `error` once dead).
    public static func command(_ type: EventType, _ command: Command, context: EventContext, at time: Timestamp)
        -> NewEvent
    {
        var data: [String: JSONValue] = [
            "command_id": .string(command.id.lowercasedString),
            "action": .string(command.action.rawValue),
            "status": .string(command.status.rawValue),
            "request_id": .string(command.requestID),
            "correlation_id": .string(command.correlationID),
            "client_id": .string(command.clientID),
            "user_id": command.userID.map(JSONValue.string) ?? .null,
            "run_id": .string(command.runID.lowercasedString),
        ]
        if let result = command.result { data["result"] = result }
        if let error = command.error { data["error"] = error }
        return NewEvent(
            type: type.rawValue, subject: "commands/\(command.id.lowercasedString)", time: time, data: .object(data),
            context: context)
    }

    /// `command.succeeded`, built before the change commits (the store completes the command with it).
    public static func commandSucceeded(
        _ command: Command, result: JSONValue, context: EventContext, at time: Timestamp
    ) -> NewEvent {
        var done = command
        done.status = .succeeded
        done.result = result
        return Self.command(.commandSucceeded, done, context: context, at: time)
    }
}
