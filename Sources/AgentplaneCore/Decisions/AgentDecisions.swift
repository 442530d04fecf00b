/// Every field of an agent a caller sets (create, or replace with PUT); nil takes the default.
public struct AgentDraft: Sendable, Hashable {
    /// Unique slug.
    public var type: String
    /// Display name.
    public var name: String
    /// Description (default empty).
    public var description: String?
    /// Category.
    public var category: String
    /// Default configuration (default `{}`).
    public var defaultConfig: [String: JSONValue]?
    /// Admin-owned content (default `{}`).
    public var content: JSONValue?
    /// Activation code (default none).
    public var activationCode: String?
    /// Rate (default 0).
    public var rate: Int?
    /// Active (default true).
    public var isActive: Bool?

    /// Creates a draft.
    public init(
        type: String, name: String, description: String? = nil, category: String,
        defaultConfig: [String: JSONValue]? = nil, content: JSONValue? = nil, activationCode: String? = nil,
        rate: Int? = nil, isActive: Bool? = nil
    ) {
        self.type = type
        self.name = name
        self.description = description
        self.category = category
        self.defaultConfig = defaultConfig
        self.content = content
        self.activationCode = activationCode
        self.rate = rate
        self.isActive = isActive
    }

    /// `agent` with every field of this draft (defaults for the unset ones).
    func replacing(_ agent: Agent) -> Agent {
        var next = agent
        next.type = type
        next.name = name
        next.description = description ?? ""
        next.category = category
        next.defaultConfig = defaultConfig ?? [:]
        next.content = content ?? .object([:])
        next.activationCode = activationCode
        next.rate = rate ?? 0
        next.isActive = isActive ?? true
        return next
    }
}

/// The fields of an agent a PATCH changes; nil keeps the current value.
public struct AgentPatch: Sendable, Hashable {
    /// New slug.
    public var type: String?
    /// New name.
    public var name: String?
    /// New description.
    public var description: String?
    /// New category.
    public var category: String?
    /// New default configuration.
    public var defaultConfig: [String: JSONValue]?
    /// New content.
    public var content: JSONValue?
    /// New activation code.
    public var activationCode: String?
    /// New rate.
    public var rate: Int?
    /// New active flag.
    public var isActive: Bool?

    /// Creates a patch.
    public init(
        type: String? = nil, name: String? = nil, description: String? = nil, category: String? = nil,
        defaultConfig: [String: JSONValue]? = nil, content: JSONValue? = nil, activationCode: String? = nil,
        rate: Int? = nil, isActive: Bool? = nil
    ) {
        self.type = type
        self.name = name
        self.description = description
        self.category = category
        self.defaultConfig = defaultConfig
        self.content = content
        self.activationCode = activationCode
        self.rate = rate
        self.isActive = isActive
    }

    func applied(to agent: Agent) -> Agent {
        var next = agent
        if let type { next.type = type }
        if let name { next.name = name }
        if let description { next.description = description }
        if let category { next.category = category }
        if let defaultConfig { next.defaultConfig = defaultConfig }
        if let content { next.content = content }
        if let activationCode { next.activationCode = activationCode }
        if let rate { next.rate = rate }
        if let isActive { next.isActive = isActive }
        return next
    }
}

/// How an agent changes.
public enum AgentChange: Sendable, Hashable {
    /// PATCH: only the fields set.
    case patch(AgentPatch)
    /// PUT: every field.
    case replace(AgentDraft)
}

/// The rules of the agent catalog.
public enum AgentDecisions {
    /// A new agent and `agent.created`.
    public static func create(_ draft: AgentDraft, context: EventContext, now: Timestamp) throws(AgentplaneError)
        -> (Agent, [NewEvent])
    {
        let blank = Agent(
            id: UUIDv7.make(at: now), type: "", name: "", description: "", category: "", defaultConfig: [:],
            content: .object([:]), activationCode: nil, rate: 0, isActive: true, version: 1, createdAt: now,
            updatedAt: now)
        let agent = draft.replacing(blank)
        try validate(agent)
        return (agent, [Events.agent(.agentCreated, agent, context: context, at: now)])
    }

    /// The next version, `agent.updated`, and `agent.activation_code_changed` when the code changed.
    public static func update(
        _ change: AgentChange, current: Agent, expectedVersion: Int64?, context: EventContext, now: Timestamp
    ) throws(AgentplaneError) -> Change<Agent> {
        var next: Agent
        switch change {
        case .patch(let patch): next = patch.applied(to: current)
        case .replace(let draft): next = draft.replacing(current)
        }
        next.updatedAt = now
        try validate(next)
        let expected = expectedVersion ?? current.version
        next.version = expected + 1  // events name the version the change creates
        var events = [Events.agent(.agentUpdated, next, context: context, at: now)]
        if next.activationCode != current.activationCode {
            events.append(Events.agent(.agentActivationCodeChanged, next, context: context, at: now))
        }
        return Change(state: next, expectedVersion: expected, events: events)
    }

    /// `agent.deleted` (a soft delete).
    public static func delete(_ current: Agent, context: EventContext, now: Timestamp) -> [NewEvent] {
        [Events.agent(.agentDeleted, current, context: context, at: now)]
    }

    /// Whether `principal` may see `agent`: tenant credentials see active agents only.
    public static func isVisible(_ agent: Agent, to principal: Principal) -> Bool {
        principal.isPlatformAdmin || agent.isActive
    }

    /// Whether principals see inactive agents in lists when they ask.
    public static func listsInactive(requested: Bool, by principal: Principal) -> Bool {
        principal.isPlatformAdmin && requested
    }

    /// Whether `principal` may read activation codes.
    public static func showsActivationCode(to principal: Principal) -> Bool { principal.isPlatformAdmin }

    /// Whether new instances may be made from `agent`.
    public static func canBackInstances(_ agent: Agent) -> Bool { agent.isActive && agent.deletedAt == nil }

    private static func validate(_ agent: Agent) throws(AgentplaneError) {
        let errors = AgentValidation.errors(agent)
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
    }
}
