import Foundation

/// A command's `data`, read for its action: what the matching HTTP route takes.
public enum CommandInput: Sendable, Hashable {
    /// `create_instance`: the body of `POST /api/v1/instances`.
    case create(CreateInstance)
    /// `update_instance`: `instance_id` plus the body of `PATCH /api/v1/instances/{id}` (`version` as `If-Match`).
    case update(UUID, UpdateInstance)
    /// `delete_instance`: `instance_id`.
    case delete(UUID)
}

/// What a client submits, before it is checked.
public struct SubmitCommand: Sendable, Hashable {
    /// `create_instance`, `update_instance` or `delete_instance`.
    public var action: String
    /// The action's input.
    public var data: JSONValue
    /// Required: 1 to 200 characters.
    public var requestID: String?
    /// Default: the request id.
    public var correlationID: String?
    /// Seed 000's client: must be the acting tenant's id when given.
    public var clientID: String?
    /// The user the command acts for.
    public var userID: String?

    /// Creates the submission.
    public init(
        action: String, data: JSONValue, requestID: String?, correlationID: String? = nil, clientID: String? = nil,
        userID: String? = nil
    ) {
        self.action = action
        self.data = data
        self.requestID = requestID
        self.correlationID = correlationID
        self.clientID = clientID
        self.userID = userID
    }
}

/// The rules of commands.
public enum CommandDecisions {
    /// The checked action and input of a submission, with its header fields (errors name `/action`,
    /// `/data/...`, `/request_id`, `/correlation_id`, `/user_id`; a `client_id` that is not the tenant is 403).
    public static func check(_ submit: SubmitCommand, tenant: TenantID) throws(AgentplaneError)
        -> (CommandAction, CommandInput)
    {
        var errors: [FieldError] = []
        for (pointer, value) in [
            ("/request_id", submit.requestID), ("/correlation_id", submit.correlationID), ("/user_id", submit.userID),
        ] {
            guard let value else { continue }
            if value.isEmpty || value.unicodeScalars.count > 200
                || value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            {
                errors.append(FieldError(pointer: pointer, message: "must be 1 to 200 characters without controls"))
            }
        }
        if submit.requestID == nil { errors.append(FieldError(pointer: "/request_id", message: "is required")) }
        // The stored data, whatever the action reads of it, must be storable.
        errors += EventValidation.dataErrors(submit.data, pointer: "/data")
        let action = CommandAction(rawValue: submit.action)
        if action == nil {
            errors.append(
                FieldError(pointer: "/action", message: "must be create_instance, update_instance or delete_instance"))
        }
        var input: CommandInput?
        if let action {
            do {
                input = try self.input(action, submit.data)
            } catch {
                errors += error.fieldErrors
            }
        }
        guard errors.isEmpty, let action, let input else {
            var seen = Set<FieldError>()
            throw AgentplaneError.validation(errors.filter { seen.insert($0).inserted })
        }
        if let client = submit.clientID, TenantID(uuidString: client) != tenant {
            throw AgentplaneError(
                .forbidden, "client_id must be the id of the tenant the command acts in.",
                fieldErrors: [FieldError(pointer: "/client_id", message: "is not the caller's tenant")])
        }
        return (action, input)
    }

    /// Reads `data` for `action` with the field rules of the matching route; errors name `/data/...`.
    public static func input(_ action: CommandAction, _ data: JSONValue) throws(AgentplaneError) -> CommandInput {
        guard case .object(let fields) = data else {
            throw AgentplaneError.validation([FieldError(pointer: "/data", message: "must be an object")])
        }
        var errors: [FieldError] = []
        func string(_ key: String) -> String? {
            guard let value = fields[key], value != .null else { return nil }
            guard case .string(let text) = value else {
                errors.append(FieldError(pointer: "/data/\(key)", message: "must be a string"))
                return nil
            }
            return text
        }
        func object(_ key: String) -> [String: JSONValue]? {
            guard let value = fields[key], value != .null else { return nil }
            guard case .object(let members) = value else {
                errors.append(FieldError(pointer: "/data/\(key)", message: "must be an object"))
                return nil
            }
            return members
        }
        func instanceID() -> UUID? {
            guard let text = string("instance_id") else {
                if fields["instance_id"] == nil || fields["instance_id"] == .null {
                    errors.append(FieldError(pointer: "/data/instance_id", message: "is required"))
                }
                return nil
            }
            guard let id = UUID(canonical: text) else {
                errors.append(FieldError(pointer: "/data/instance_id", message: "must be a UUID"))
                return nil
            }
            return id
        }
        let input: CommandInput?
        switch action {
        case .createInstance:
            let agent = string("agent_id") ?? string("template_id") ?? string("bot_id")
            let name = string("name") ?? string("title")
            let create = CreateInstance(
                agentID: agent, name: name ?? "", projectID: string("project_id"), config: object("config") ?? [:],
                pipelineConfig: fields["pipeline_config"] ?? .object([:]))
            if agent == nil, errors.isEmpty {
                errors.append(FieldError(pointer: "/data/agent_id", message: "is required"))
            } else if create.agentUUID == nil, agent != nil {
                errors.append(FieldError(pointer: "/data/agent_id", message: "must be a UUID"))
            }
            errors += TenantValidation.nameErrors(create.name, pointer: "/data/name")
            errors += prefixed(EventValidation.dataErrors(.object(create.config), pointer: "/config"))
            errors += prefixed(EventValidation.dataErrors(create.pipelineConfig, pointer: "/pipeline_config"))
            if let project = create.projectID { errors += prefixed(InstanceDecisions.projectErrors(project)) }
            input = .create(create)
        case .updateInstance:
            let id = instanceID()
            var version: Int64?
            if let value = fields["version"], value != .null {
                if case .int(let number) = value, number >= 1 {
                    version = number
                } else {
                    errors.append(FieldError(pointer: "/data/version", message: "must be an integer of at least 1"))
                }
            }
            let update = UpdateInstance(
                name: string("name") ?? string("title"), projectID: string("project_id"), config: object("config"),
                pipelineConfig: fields["pipeline_config"].flatMap { $0 == .null ? nil : $0 }, expectedVersion: version)
            if let name = update.name { errors += TenantValidation.nameErrors(name, pointer: "/data/name") }
            if let project = update.projectID { errors += prefixed(InstanceDecisions.projectErrors(project)) }
            if let config = update.config {
                errors += prefixed(EventValidation.dataErrors(.object(config), pointer: "/config"))
            }
            if let pipeline = update.pipelineConfig {
                errors += prefixed(EventValidation.dataErrors(pipeline, pointer: "/pipeline_config"))
            }
            input = id.map { .update($0, update) }
        case .deleteInstance:
            input = instanceID().map(CommandInput.delete)
        }
        guard errors.isEmpty, let input else { throw AgentplaneError.validation(errors) }
        return input
    }

    /// A route's field errors as errors of the command's `data`.
    public static func prefixed(_ errors: [FieldError]) -> [FieldError] {
        errors.map { FieldError(pointer: "/data" + $0.pointer, message: $0.message) }
    }

    /// The problem a failed command records (`type`, `title`, `status`, `detail`, `code`, field `errors`).
    public static func problem(_ error: AgentplaneError) -> JSONValue {
        var members: [String: JSONValue] = [
            "type": .string(error.code.typeURI), "title": .string(error.code.title),
            "status": .int(Int64(error.code.status)), "detail": .string(error.detail),
            "code": .string(error.code.rawValue),
        ]
        if !error.fieldErrors.isEmpty {
            members["errors"] = .array(
                error.fieldErrors.map { .object(["pointer": .string($0.pointer), "message": .string($0.message)]) })
        }
        return .object(members)
    }
}
