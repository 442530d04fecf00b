import Foundation

/// Checks a value against the JSON Schema subset tools declare for their input: `type` (one or a list),
/// `properties`, `required`, `additionalProperties: false`, `enum`, `const`, `items`, `minimum`, `maximum`,
/// `minLength`, `maxLength`, `minItems`, `maxItems`. Other keywords are not checked (the tool checks again).
/// With `templates`, a string holding `${…}` matches any type: its value is known only once rendered.
public enum JSONSchemaCheck {
    /// Field errors of `value` against `schema`, pointers under `pointer`.
    public static func errors(
        _ value: JSONValue, against schema: JSONValue, pointer: String, templates: Bool = false
    ) -> [FieldError] {
        guard case .object(let rules) = schema else { return [] }
        if templates, case .string(let text) = value, text.contains("${") { return [] }
        var errors: [FieldError] = []
        if let expected = rules["type"], !matches(value, type: expected) {
            let names =
                expected.arrayValue?.compactMap(\.stringValue).joined(separator: " or ") ?? expected.stringValue ?? "?"
            return [FieldError(pointer: pointer, message: "must be of type \(names)")]
        }
        if let choices = rules["enum"]?.arrayValue, !choices.contains(where: { equal($0, value) }) {
            errors.append(FieldError(pointer: pointer, message: "must be one of \(JSONValue.array(choices).jsonText)"))
        }
        if let constant = rules["const"], !equal(constant, value) {
            errors.append(FieldError(pointer: pointer, message: "must be \(constant.jsonText)"))
        }
        switch value {
        case .object(let members):
            let properties = rules["properties"]?.objectValue ?? [:]
            for name in rules["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where members[name] == nil {
                errors.append(FieldError(pointer: pointer + "/" + escape(name), message: "is required"))
            }
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                if let rule = properties[name] {
                    errors += Self.errors(
                        member, against: rule, pointer: pointer + "/" + escape(name), templates: templates)
                } else if rules["additionalProperties"] == .bool(false) {
                    errors.append(
                        FieldError(pointer: pointer + "/" + escape(name), message: "is not an input of the tool"))
                } else if let rule = rules["additionalProperties"], case .object = rule {
                    errors += Self.errors(
                        member, against: rule, pointer: pointer + "/" + escape(name), templates: templates)
                }
            }
        case .array(let elements):
            if let minimum = rules["minItems"]?.numberValue, Double(elements.count) < minimum {
                errors.append(FieldError(pointer: pointer, message: "must have at least \(Int(minimum)) items"))
            }
            if let maximum = rules["maxItems"]?.numberValue, Double(elements.count) > maximum {
                errors.append(FieldError(pointer: pointer, message: "must have at most \(Int(maximum)) items"))
            }
            if let rule = rules["items"] {
                for (index, element) in elements.enumerated() {
                    errors += Self.errors(element, against: rule, pointer: "\(pointer)/\(index)", templates: templates)
                }
            }
        case .string(let text):
            if let minimum = rules["minLength"]?.numberValue, Double(text.count) < minimum {
                errors.append(FieldError(pointer: pointer, message: "must be at least \(Int(minimum)) characters"))
            }
            if let maximum = rules["maxLength"]?.numberValue, Double(text.count) > maximum {
                errors.append(FieldError(pointer: pointer, message: "must be at most \(Int(maximum)) characters"))
            }
        case .int, .double:
            let number = value.numberValue ?? 0
            if let minimum = rules["minimum"]?.numberValue, number < minimum {
                errors.append(
                    FieldError(pointer: pointer, message: "must be at least \(JSONValue.double(minimum).jsonText)"))
            }
            if let maximum = rules["maximum"]?.numberValue, number > maximum {
                errors.append(
                    FieldError(pointer: pointer, message: "must be at most \(JSONValue.double(maximum).jsonText)"))
            }
        case .bool, .null:
            break
        }
        return errors
    }

    static func matches(_ value: JSONValue, type: JSONValue) -> Bool {
        if let names = type.arrayValue { return names.contains { matches(value, type: $0) } }
        switch (type.stringValue, value) {
        case ("string", .string), ("boolean", .bool), ("null", .null), ("object", .object), ("array", .array):
            return true
        case ("number", .int), ("number", .double), ("integer", .int), (nil, _):
            return true
        case ("integer", .double(let number)):
            return number.rounded() == number
        default:
            return false
        }
    }

    static func equal(_ left: JSONValue, _ right: JSONValue) -> Bool {
        if let a = left.numberValue, let b = right.numberValue { return a == b }
        return left == right
    }

    static func escape(_ name: String) -> String {
        name.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}
