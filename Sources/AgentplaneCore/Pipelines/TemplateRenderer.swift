/// What references resolve against when a step's `with` is rendered.
public struct RenderContext: Sendable {
    /// Outputs of the steps run so far, keyed by step id and, when set, also by save_as.
    public var steps: [String: JSONValue]
    /// The event that started the run, when an event did.
    public var event: JSONValue?
    /// The task as JSON.
    public var task: JSONValue
    /// The instance as JSON (`id`, `name`, `config`), when the task belongs to one.
    public var instance: JSONValue?
    /// Secret values by name.
    public var secrets: [String: String]
    /// Allow-listed environment variables by name.
    public var env: [String: String]
    /// The input of an instance run, when the pipeline runs for one.
    public var input: JSONValue?

    /// Creates a context.
    public init(
        steps: [String: JSONValue] = [:],
        event: JSONValue? = nil,
        task: JSONValue = .object([:]),
        instance: JSONValue? = nil,
        secrets: [String: String] = [:],
        env: [String: String] = [:],
        input: JSONValue? = nil
    ) {
        self.steps = steps
        self.event = event
        self.task = task
        self.instance = instance
        self.secrets = secrets
        self.env = env
        self.input = input
    }

    /// The root a step's `if` is evaluated against: `steps`, `event`, `task` and `instance` (only its `id`,
    /// `name` and `config`); secrets and environment variables are not readable from conditions.
    public var conditionRoot: JSONValue {
        var members: [String: JSONValue] = ["steps": .object(steps), "task": task]
        if let event { members["event"] = event }
        if let input { members["input"] = input }
        if let instance = instance?.objectValue {
            members["instance"] = .object(instance.filter { ["id", "name", "config"].contains($0.key) })
        }
        return .object(members)
    }
}

/// Why rendering failed: the reference as written and what was missing. The caller adds the step id.
public struct RenderError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The reference as written inside `${…}`, e.g. `steps.weather.summary` (or the whole string when it
    /// does not parse).
    public var path: String
    /// What is wrong, e.g. "step 'weather' has no output". Never contains a secret's value.
    public var message: String

    /// Creates an error.
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    /// `${path}: message`.
    public var description: String { "${\(path)}: \(message)" }
}

/// Renders `${…}` references in JSON values (see `Template` for the syntax); it never evaluates code.
public enum TemplateRenderer {
    /// The text that replaces a secret's value in masked output.
    public static let mask = "***"
    /// Secrets shorter than this are not masked (masking `a` would garble every log line).
    public static let minimumMaskedLength = 4

    /// Renders every string in a value, recursively (object keys are left as they are).
    ///
    /// A string that is exactly one reference becomes the referenced value, keeping its JSON type. A reference
    /// inside a longer string is interpolated: strings as they are, numbers and booleans as JSON text, `null`
    /// as `null`, objects and arrays as compact JSON with sorted keys.
    public static func render(_ value: JSONValue, in context: RenderContext) throws(RenderError) -> JSONValue {
        switch value {
        case .string(let text):
            return try render(text, in: context)
        case .array(let elements):
            var rendered: [JSONValue] = []
            rendered.reserveCapacity(elements.count)
            for element in elements { rendered.append(try render(element, in: context)) }
            return .array(rendered)
        case .object(let members):
            var rendered: [String: JSONValue] = [:]
            rendered.reserveCapacity(members.count)
            for (key, member) in members { rendered[key] = try render(member, in: context) }
            return .object(rendered)
        default:
            return value
        }
    }

    private static func render(_ text: String, in context: RenderContext) throws(RenderError) -> JSONValue {
        guard Template.mayContainReferences(text) else { return .string(text) }
        let template: Template
        do {
            template = try Template.parse(text)
        } catch {
            throw RenderError(path: text, message: error.description)
        }
        if let reference = template.soleReference { return try resolve(reference, in: context) }
        var output = ""
        for part in template.parts {
            switch part {
            case .literal(let literal): output += literal
            case .reference(let reference): output += try resolve(reference, in: context).compactText
            }
        }
        return .string(output)
    }

    /// The value a reference names, or an error saying which part is missing.
    public static func resolve(_ reference: TemplateReference, in context: RenderContext) throws(RenderError)
        -> JSONValue
    {
        let name = reference.description
        switch reference.root {
        case .secrets, .env:
            let values = reference.root == .secrets ? context.secrets : context.env
            let key = reference.path.first ?? ""
            guard let value = values[key] else {
                let what = reference.root == .secrets ? "secret '\(key)' is not set" : "env '\(key)' is not allowed"
                throw RenderError(path: name, message: what)
            }
            return .string(value)
        case .steps:
            guard let step = reference.path.first, let output = context.steps[step] else {
                throw RenderError(path: name, message: "step '\(reference.path.first ?? "")' has no output yet")
            }
            return try descend(output, Array(reference.path.dropFirst()), base: "steps.\(step)", name: name)
        case .event:
            guard let event = context.event else {
                throw RenderError(path: name, message: "there is no event: the run was not started by one")
            }
            return try descend(event, reference.path, base: "event", name: name)
        case .task:
            return try descend(context.task, reference.path, base: "task", name: name)
        case .input:
            guard let input = context.input else {
                throw RenderError(path: name, message: "there is no input: the run is not an instance run")
            }
            return try descend(input, reference.path, base: "input", name: name)
        case .instance:
            guard let instance = context.instance else {
                throw RenderError(path: name, message: "there is no instance: the task belongs to none")
            }
            return try descend(instance, reference.path, base: "instance", name: name)
        }
    }

    private static func descend(_ value: JSONValue, _ path: [String], base: String, name: String)
        throws(RenderError) -> JSONValue
    {
        var current = value
        var reached = base
        for segment in path {
            switch current {
            case .object(let members):
                guard let member = members[segment] else {
                    throw RenderError(path: name, message: "'\(segment)' is not a key of \(reached)")
                }
                current = member
            case .array(let elements):
                guard let index = JSONValue.arrayIndex(segment) else {
                    throw RenderError(path: name, message: "\(reached) is an array: '\(segment)' is not an index")
                }
                guard index < elements.count else {
                    throw RenderError(
                        path: name,
                        message: "index \(index) is out of range: \(reached) has \(elements.count) elements")
                }
                current = elements[index]
            default:
                throw RenderError(
                    path: name, message: "\(reached) is \(kindName(current)), so it has no '\(segment)'")
            }
            reached += ".\(segment)"
        }
        return current
    }

    private static func kindName(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// The value with every secret's value (at least `minimumMaskedLength` characters) replaced by `***` in
    /// every string and object key, longest secrets first; for step logs.
    public static func masked(_ value: JSONValue, secrets: [String: String]) -> JSONValue {
        let values = Set(secrets.values.filter { $0.count >= minimumMaskedLength })
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0 < $1 }
        guard !values.isEmpty else { return value }
        return masked(value, values: values)
    }

    private static func masked(_ value: JSONValue, values: [String]) -> JSONValue {
        switch value {
        case .string(let text):
            return .string(masked(text, values: values))
        case .array(let elements):
            return .array(elements.map { masked($0, values: values) })
        case .object(let members):
            var result: [String: JSONValue] = [:]
            for (key, member) in members { result[masked(key, values: values)] = masked(member, values: values) }
            return .object(result)
        default:
            return value
        }
    }

    private static func masked(_ text: String, values: [String]) -> String {
        var text = text
        for secret in values where text.contains(secret) {
            text = text.replacing(secret, with: mask)
        }
        return text
    }
}
