/// The effective configuration of an instance: the agent's `default_config` with the instance's
/// overrides on top. Objects merge key by key (recursively); any other value replaces; `null` in
/// the overrides removes the key.
public enum ConfigMerge {
    /// Where an effective value came from.
    public enum Origin: String, Sendable, Hashable, Codable {
        case agent
        case override
    }

    /// The merged configuration.
    public static func merge(defaults: [String: JSONValue], overrides: [String: JSONValue]) -> [String: JSONValue] {
        var result = defaults
        for (key, value) in overrides {
            switch (result[key], value) {
            case (_, .null):
                result[key] = nil
            case (.object(let base)?, .object(let patch)):
                result[key] = .object(merge(defaults: base, overrides: patch))
            default:
                result[key] = value
            }
        }
        return result
    }

    /// For each leaf of the merged configuration (a dotted path), whether the agent or the override
    /// supplied it.
    public static func explain(defaults: [String: JSONValue], overrides: [String: JSONValue], prefix: String = "")
        -> [String: Origin]
    {
        var origins: [String: Origin] = [:]
        let merged = merge(defaults: defaults, overrides: overrides)
        for (key, value) in merged {
            let path = prefix.isEmpty ? key : "\(prefix).\(key)"
            switch (defaults[key], overrides[key], value) {
            case (.object(let base)?, .object(let patch)?, .object):
                origins.merge(explain(defaults: base, overrides: patch, prefix: path)) { $1 }
            case (_, .some, _):
                origins[path] = .override
            default:
                origins[path] = .agent
            }
        }
        return origins
    }
}
