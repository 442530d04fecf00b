import Foundation

/// Create an instance from a catalog agent.
public struct CreateInstance: Sendable, Hashable {
    /// The agent's id as the caller wrote it (`agent_id`, or seed 000's `template_id` / `bot_id`).
    public var agentID: String?
    /// Display name.
    public var name: String
    /// Optional grouping.
    public var projectID: String?
    /// Overrides of the agent's defaults.
    public var config: [String: JSONValue]
    /// Pipeline settings.
    public var pipelineConfig: JSONValue

    /// Creates the command.
    public init(
        agentID: String?, name: String, projectID: String? = nil, config: [String: JSONValue] = [:],
        pipelineConfig: JSONValue = .object([:])
    ) {
        self.agentID = agentID
        self.name = name
        self.projectID = projectID
        self.config = config
        self.pipelineConfig = pipelineConfig
    }

    /// The agent id, when the text is a UUID.
    public var agentUUID: UUID? { agentID.flatMap(UUID.init(uuidString:)) }
}

/// Change an instance's name, project or configuration.
public struct UpdateInstance: Sendable, Hashable {
    /// New name.
    public var name: String?
    /// New project.
    public var projectID: String?
    /// Overrides merged into the current ones.
    public var config: [String: JSONValue]?
    /// New pipeline settings.
    public var pipelineConfig: JSONValue?
    /// The version the caller read; nil: the current one.
    public var expectedVersion: Int64?

    /// Creates the command.
    public init(
        name: String? = nil, projectID: String? = nil, config: [String: JSONValue]? = nil,
        pipelineConfig: JSONValue? = nil, expectedVersion: Int64? = nil
    ) {
        self.name = name
        self.projectID = projectID
        self.config = config
        self.pipelineConfig = pipelineConfig
        self.expectedVersion = expectedVersion
    }
}

/// The rules of instances.
public enum InstanceDecisions {
    /// A new `pending` instance, `instance.created` and `knowledge_base.created`. Field errors come
    /// first; then one answer for unknown, inactive and deleted agents (tenants may not learn of
    /// hidden agents).
    public static func create(
        _ command: CreateInstance, agent: Agent?, tenant: TenantID, owner: String, context: EventContext,
        now: Timestamp
    ) throws(AgentplaneError) -> (Instance, [NewEvent]) {
        var errors: [FieldError] = []
        if command.agentUUID == nil {
            errors.append(
                FieldError(pointer: "/agent_id", message: command.agentID == nil ? "is required" : "must be a UUID"))
        }
        errors += TenantValidation.nameErrors(command.name)
        errors += EventValidation.dataErrors(.object(command.config), pointer: "/config")
        errors += EventValidation.dataErrors(command.pipelineConfig, pointer: "/pipeline_config")
        if let project = command.projectID { errors += projectErrors(project) }
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        guard let agent, agent.id == command.agentUUID, AgentDecisions.canBackInstances(agent) else {
            throw AgentplaneError(
                .agentUnavailable,
                "No such agent, or it cannot back new instances.",
                fieldErrors: [FieldError(pointer: "/agent_id", message: "is not available")]
            )
        }
        let config = ConfigMerge.merge(defaults: agent.defaultConfig, overrides: command.config)
        try runtimeErrors(config: config, pipelineConfig: command.pipelineConfig)
        let instance = Instance(
            id: UUIDv7.make(at: now),
            tenantID: tenant,
            agentID: agent.id,
            ownerUserID: owner,
            projectID: command.projectID,
            name: command.name,
            userConfig: command.config,
            config: config,
            pipelineConfig: command.pipelineConfig,
            status: .pending,
            version: 1,
            createdAt: now,
            updatedAt: now
        )
        return (
            instance,
            [
                Events.instance(.instanceCreated, instance, context: context, at: now),
                Events.knowledgeBaseCreated(instance, context: context, at: now),
            ]
        )
    }

    /// The changed instance; its effective config is re-merged with `agentDefaults`.
    public static func update(
        _ command: UpdateInstance, current: Instance, agentDefaults: [String: JSONValue], context: EventContext,
        now: Timestamp
    ) throws(AgentplaneError) -> Change<Instance> {
        var next = current
        var errors: [FieldError] = []
        if let name = command.name {
            next.name = name
            errors += TenantValidation.nameErrors(name)
        }
        if let project = command.projectID {
            next.projectID = project
            errors += projectErrors(project)
        }
        if let config = command.config {
            next.userConfig = ConfigMerge.merge(defaults: current.userConfig, overrides: config)
            errors += EventValidation.dataErrors(.object(next.userConfig), pointer: "/config")
        }
        if let pipeline = command.pipelineConfig {
            next.pipelineConfig = pipeline
            errors += EventValidation.dataErrors(pipeline, pointer: "/pipeline_config")
        }
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        next.config = ConfigMerge.merge(defaults: agentDefaults, overrides: next.userConfig)
        if command.config != nil || command.pipelineConfig != nil {
            try runtimeErrors(config: next.config, pipelineConfig: next.pipelineConfig)
        }
        return change(next, current: current, expectedVersion: command.expectedVersion, context: context, now: now)
    }

    /// A status change the lifecycle allows (the 409 naming both states otherwise).
    public static func transition(
        _ current: Instance, to status: InstanceStatus, context: EventContext, now: Timestamp
    ) throws(AgentplaneError) -> Change<Instance> {
        var next = current
        next.status = try current.status.transition(to: status)
        if next.status == .pending { next.statusReason = nil }
        return change(next, current: current, expectedVersion: nil, context: context, now: now)
    }

    /// Refuses a configuration whose runtime keys are invalid or whose runtime lacks what it needs
    /// (docs/agent-runtime.md).
    static func runtimeErrors(config: [String: JSONValue], pipelineConfig: JSONValue) throws(AgentplaneError) {
        if case .failure(let error) = InstanceRuntime.resolve(config: config, pipelineConfig: pipelineConfig) {
            throw error.validationError
        }
    }

    /// A `project_id` is 1 to 255 characters without NUL (PostgreSQL cannot store one).
    public static func projectErrors(_ project: String) -> [FieldError] {
        guard !project.isEmpty, project.unicodeScalars.count <= 255, !project.unicodeScalars.contains("\u{0}") else {
            return [FieldError(pointer: "/project_id", message: "must be 1 to 255 characters without NUL")]
        }
        return []
    }

    /// `instance.deleted`.
    public static func delete(_ current: Instance, context: EventContext, now: Timestamp) -> [NewEvent] {
        [Events.instance(.instanceDeleted, current, context: context, at: now)]
    }

    /// The next version with `instance.updated` and, for a status change, `instance.status_changed`.
    static func change(
        _ next: Instance, current: Instance, expectedVersion: Int64?, context: EventContext, now: Timestamp
    ) -> Change<Instance> {
        var next = next
        let expected = expectedVersion ?? current.version
        next.updatedAt = now
        next.version = expected + 1  // events name the version the change creates
        let events = Events.change(
            updated: Events.instance(.instanceUpdated, next, context: context, at: now),
            statusChanged: Events.instance(.instanceStatusChanged, next, context: context, at: now),
            from: current.status.rawValue,
            to: next.status.rawValue
        )
        return Change(state: next, expectedVersion: expected, events: events)
    }
}
