/// An `event` task's trigger: an event-type pattern and an optional filter on the event's `data`.
///
/// `schedule_expr` is either a bare pattern (`order.created`, `github.*`, `*`) or a JSON object
/// `{"type": "<pattern>", "filter": {…}}`.
/// - A pattern is 1–200 characters of `[a-z0-9._*-]`. `*` matches any run of characters, the empty run
///   included, within or across dot segments: `github.*` matches `github.push` and `github.pr.opened` but not
///   `github`; `*.failed` matches `run.failed` and `a.b.failed`; `*` matches every type.
/// - The filter is a JSON object that matches when it is a subset of `data`: every filter key is present in
///   `data` and its value matches (objects recursively by the same rule; arrays and scalars by equality, numbers
///   by value, so `1` matches `1.0`). `{}` or no filter matches any data.
public struct EventTrigger: Sendable, Hashable {
    /// The longest pattern accepted.
    public static let maximumPatternLength = 200

    /// The event-type pattern.
    public let pattern: String
    /// The filter object, when one was given.
    public let filter: JSONValue?

    /// Parses a bare pattern or a `{"type", "filter"}` object; errors name `/schedule_expr` and the sub-field.
    public static func parse(_ expression: String) throws(ScheduleError) -> EventTrigger {
        guard expression.utf8.first == UInt8(ascii: "{") else {
            if let (offset, message) = patternProblem(expression) {
                throw .expression("pattern \(message)", at: offset)
            }
            return EventTrigger(pattern: expression, filter: nil)
        }
        let members = try TaskTrigger.jsonObject(expression, keys: ["type", "filter"])
        guard case .string(let pattern) = members["type"] else {
            throw .expression("type is required: an event-type pattern such as 'order.*'", at: nil)
        }
        if let (_, message) = patternProblem(pattern) { throw .expression("type \(message)", at: nil) }
        switch members["filter"] {
        case nil, .null: return EventTrigger(pattern: pattern, filter: nil)
        case .some(.object(let filter)): return EventTrigger(pattern: pattern, filter: .object(filter))
        default: throw .expression("filter must be a JSON object matched against the event's data", at: nil)
        }
    }

    /// Whether an event of this type and data starts a run.
    public func matches(type: String, data: JSONValue) -> Bool {
        guard Self.pattern(pattern, matches: type) else { return false }
        guard let filter else { return true }
        return Self.filter(filter, matches: data)
    }

    /// Whether a type matches a pattern where `*` stands for any run of characters.
    static func pattern(_ pattern: String, matches type: String) -> Bool {
        let pattern = Array(pattern.utf8)
        let type = Array(type.utf8)
        var (p, t) = (0, 0)
        var star: (pattern: Int, type: Int)?
        while t < type.count {
            if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                star = (p, t)
                p += 1
            } else if p < pattern.count, pattern[p] == type[t] {
                p += 1
                t += 1
            } else if let last = star {
                // Let the last `*` swallow one more character and retry from there.
                star = (last.pattern, last.type + 1)
                p = last.pattern + 1
                t = last.type + 1
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }

    /// Whether `filter` is a JSON subset of `data`: objects key by key, everything else by equality.
    static func filter(_ filter: JSONValue, matches data: JSONValue) -> Bool {
        guard case .object(let wanted) = filter else { return filter.jsonEquals(data) }
        guard case .object(let members) = data else { return false }
        return wanted.allSatisfy { key, value in
            guard let member = members[key] else { return false }
            return Self.filter(value, matches: member)
        }
    }

    /// The offset and description of the first problem with a pattern, or nil when it is valid.
    static func patternProblem(_ pattern: String) -> (Int?, String)? {
        guard (1...maximumPatternLength).contains(pattern.utf8.count) else {
            return (nil, "must be 1 to \(maximumPatternLength) characters")
        }
        let allowed = { (byte: UInt8) in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || [UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "*"), UInt8(ascii: "-")].contains(byte)
        }
        guard let bad = pattern.utf8.firstIndex(where: { !allowed($0) }) else { return nil }
        let offset = pattern.utf8.distance(from: pattern.utf8.startIndex, to: bad)
        let character = pattern[bad...].first.map(String.init) ?? ""
        return (offset, "has '\(character)' at offset \(offset): use a-z, 0-9, '.', '_', '-' and '*'")
    }
}
