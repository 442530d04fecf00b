import Foundation

/// A catalog entry instances are made from (seed names: persona template, agent_definition, agents).
/// Platform-admin owned; every change bumps `version` and keeps the previous version readable.
public struct Agent: Sendable, Hashable, Identifiable {
    /// Row id.
    public var id: UUID
    /// Unique slug, e.g. `copywriter`.
    public var type: String
    /// Display name.
    public var name: String
    /// What it does.
    public var description: String
    /// Grouping, e.g. `data-driven`.
    public var category: String
    /// The configuration instances start from.
    public var defaultConfig: [String: JSONValue]
    /// Opaque content owned by admins (prompts, tool lists, …).
    public var content: JSONValue
    /// Unique code that activates the agent for a tenant; changing it emits its own event.
    public var activationCode: String?
    /// Price or weight, an integer.
    public var rate: Int
    /// Whether new instances may use it.
    public var isActive: Bool
    /// Bumped by every change.
    public var version: Int64
    /// Created.
    public var createdAt: Timestamp
    /// Last changed.
    public var updatedAt: Timestamp
    /// Soft-deleted: hidden from listings and new instances, still serving existing ones.
    public var deletedAt: Timestamp?

    /// Creates an agent value.
    public init(
        id: UUID,
        type: String,
        name: String,
        description: String,
        category: String,
        defaultConfig: [String: JSONValue],
        content: JSONValue,
        activationCode: String?,
        rate: Int,
        isActive: Bool,
        version: Int64,
        createdAt: Timestamp,
        updatedAt: Timestamp,
        deletedAt: Timestamp? = nil
    ) {
        self.id = id
        self.type = type
        self.name = name
        self.description = description
        self.category = category
        self.defaultConfig = defaultConfig
        self.content = content
        self.activationCode = activationCode
        self.rate = rate
        self.isActive = isActive
        self.version = version
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.deletedAt = deletedAt
    }
}

/// Rules for agent fields.
public enum AgentValidation {
    /// Field errors for an agent, all at once.
    public static func errors(_ agent: Agent) -> [FieldError] {
        var errors = TenantValidation.slugErrors(agent.type, pointer: "/type").map {
            FieldError(pointer: $0.pointer, message: $0.message)
        }
        errors += TenantValidation.nameErrors(agent.name)
        if agent.description.unicodeScalars.count > 4000 {
            errors.append(FieldError(pointer: "/description", message: "must be at most 4000 characters"))
        }
        if agent.category.isEmpty || agent.category.unicodeScalars.count > 50 {
            errors.append(FieldError(pointer: "/category", message: "must be 1 to 50 characters"))
        }
        if let code = agent.activationCode, !(4...64).contains(code.utf8.count) || code.contains(where: \.isWhitespace)
        {
            errors.append(FieldError(pointer: "/activation_code", message: "must be 4 to 64 characters without spaces"))
        }
        if !(0...1_000_000_000).contains(agent.rate) {
            errors.append(FieldError(pointer: "/rate", message: "must be between 0 and 1000000000"))
        }
        // PostgreSQL cannot store NUL in text: refused here on both backends, like the names' control characters.
        for (pointer, text) in [
            ("/description", agent.description), ("/category", agent.category),
            ("/activation_code", agent.activationCode ?? ""),
        ] where text.unicodeScalars.contains("\u{0}") {
            errors.append(FieldError(pointer: pointer, message: "must not contain the NUL character"))
        }
        errors += EventValidation.dataErrors(.object(agent.defaultConfig), pointer: "/default_config")
        errors += InstanceRuntime.configErrors(agent.defaultConfig, pointer: "/default_config")
        errors += EventValidation.dataErrors(agent.content, pointer: "/content")
        return errors
    }
}
