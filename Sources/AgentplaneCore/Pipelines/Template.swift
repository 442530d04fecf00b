/// A string with `${…}` references to render, e.g. `"Today: ${steps.weather.summary}"`.
///
/// Syntax:
/// - `${<root>.<path>}` where the root is one of:
///   - `steps.<id or save_as>[.<path>]`: the output of an earlier step (`${steps.weather}` is all of it);
///   - `event[.<path>]`: the event that started the run (event-triggered tasks only);
///   - `task[.<path>]`: the task;
///   - `instance.config[.<path>]`, `instance.id`, `instance.name`: the instance the task belongs to;
///   - `secrets.NAME`: a secret's value; `env.NAME`: an allow-listed environment variable.
/// - A path is dot-separated segments, each a non-empty run of `[A-Za-z0-9_-]`; a segment is an object key, or
///   on an array a decimal index (`items.0.name`). Keys with other characters (spaces, dots) cannot be reached:
///   there is no bracket syntax.
/// - `$${` is a literal `${`; a `$` anywhere else is literal too.
/// - A string that is exactly one reference renders to the referenced value with its JSON type (a number stays
///   a number); a reference inside a longer string is interpolated as text (see `TemplateRenderer`).
public struct Template: Sendable, Hashable {
    /// A literal run of text or a reference.
    public enum Part: Sendable, Hashable {
        /// Text copied as it is (escapes already resolved).
        case literal(String)
        /// A `${…}` reference.
        case reference(TemplateReference)
    }

    /// The parts in order; adjacent literals are merged.
    public let parts: [Part]

    /// Creates a template from its parts.
    public init(parts: [Part]) {
        self.parts = parts
    }

    /// The references, in order.
    public var references: [TemplateReference] {
        parts.compactMap { part in
            if case .reference(let reference) = part { return reference }
            return nil
        }
    }

    /// The reference when the whole string is exactly one reference (its value keeps its JSON type).
    public var soleReference: TemplateReference? {
        if parts.count == 1, case .reference(let reference) = parts[0] { return reference }
        return nil
    }

    /// Whether a string could hold a reference or escape at all (a fast path: most strings are plain).
    public static func mayContainReferences(_ text: String) -> Bool {
        text.utf8.contains(UInt8(ascii: "$"))
    }
}

/// One `${…}` reference: its root, the path below the root, and the text as written.
public struct TemplateReference: Sendable, Hashable, CustomStringConvertible {
    /// Where a reference starts.
    public enum Root: String, Sendable, Hashable, CaseIterable {
        /// Earlier steps' outputs: the first path segment is a step's id or save_as.
        case steps
        /// The triggering event.
        case event
        /// The task.
        case task
        /// The input of an instance run (`POST /api/v1/instances/{id}/runs`).
        case input
        /// The instance: `config…`, `id` or `name`.
        case instance
        /// A secret: the path is its name.
        case secrets
        /// An allow-listed environment variable: the path is its name.
        case env
    }

    /// The root.
    public let root: Root
    /// The segments after the root (for `steps`, the first one is the step's id or save_as).
    public let path: [String]

    /// Creates a reference.
    public init(root: Root, path: [String]) {
        self.root = root
        self.path = path
    }

    /// The step the reference names, for a `steps` reference.
    public var stepName: String? { root == .steps ? path.first : nil }

    /// The reference as written inside `${…}`, e.g. `steps.weather.summary`.
    public var description: String { ([root.rawValue] + path).joined(separator: ".") }
}

/// Why a template was refused: the character offset (from 0) in the string and the problem.
public struct TemplateError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The character offset in the string where the problem is.
    public var offset: Int
    /// What is wrong, e.g. "unterminated '${': add the closing '}'".
    public var message: String

    /// Creates an error.
    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    /// `at offset N: message`.
    public var description: String { "at offset \(offset): \(message)" }
}

extension Template {
    /// Parses a string; a string without `${` is one literal part.
    public static func parse(_ text: String) throws(TemplateError) -> Template {
        let characters = Array(text)
        var parts: [Part] = []
        var literal = ""
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character == "$", index + 2 < characters.count, characters[index + 1] == "$",
                characters[index + 2] == "{"
            {
                literal += "${"
                index += 3
            } else if character == "$", index + 1 < characters.count, characters[index + 1] == "{" {
                guard let close = characters[(index + 2)...].firstIndex(of: "}") else {
                    throw TemplateError(offset: index, message: "unterminated '${': add the closing '}'")
                }
                let reference = try TemplateReference.parse(
                    String(characters[(index + 2)..<close]), offset: index + 2)
                if !literal.isEmpty { parts.append(.literal(literal)) }
                literal = ""
                parts.append(.reference(reference))
                index = close + 1
            } else {
                literal.append(character)
                index += 1
            }
        }
        if !literal.isEmpty || parts.isEmpty { parts.append(.literal(literal)) }
        return Template(parts: parts)
    }
}

extension TemplateReference {
    /// Parses the text between `${` and `}`; `offset` is where that text starts in the string.
    static func parse(_ text: String, offset: Int) throws(TemplateError) -> TemplateReference {
        guard !text.isEmpty else { throw TemplateError(offset: offset, message: "empty reference '${}'") }
        let segments = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        var position = offset
        for segment in segments {
            if segment.isEmpty {
                throw TemplateError(offset: position, message: "empty path segment in '${\(text)}'")
            }
            if let bad = segment.firstIndex(where: { !Self.isSegmentCharacter($0) }) {
                let at = position + segment.distance(from: segment.startIndex, to: bad)
                throw TemplateError(
                    offset: at, message: "'\(segment[bad])' is not allowed in a reference (use [A-Za-z0-9_-] and '.')")
            }
            position += segment.count + 1
        }
        guard let root = Root(rawValue: segments[0]) else {
            let roots = Root.allCases.map(\.rawValue).joined(separator: ", ")
            throw TemplateError(offset: offset, message: "unknown root '\(segments[0])': use one of \(roots)")
        }
        let path = Array(segments.dropFirst())
        if let problem = Self.shapeProblem(root: root, path: path) {
            throw TemplateError(offset: offset, message: "'${\(text)}' \(problem)")
        }
        return TemplateReference(root: root, path: path)
    }

    /// What is wrong with a path for its root, or nil.
    static func shapeProblem(root: Root, path: [String]) -> String? {
        switch root {
        case .steps:
            return path.isEmpty ? "must name a step: steps.<id or save_as>.<path>" : nil
        case .event, .task, .input:
            return nil
        case .instance:
            switch path.first {
            case "config": return nil
            case "id", "name": return path.count == 1 ? nil : "has no fields below \(path[0])"
            default: return "may only read instance.config.<path>, instance.id or instance.name"
            }
        case .secrets, .env:
            return path.count == 1 ? nil : "must be \(root.rawValue).NAME"
        }
    }

    private static func isSegmentCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "_" || character == "-")
    }
}
