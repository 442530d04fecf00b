import AgentplaneCore
import Hummingbird

/// The routes the contract declares, used to tell a wrong method (405) from an unknown path (404).
struct RouteTable: Sendable {
    private let routes: [(segments: [Substring], methods: [String])]
    /// What a typed query parameter accepts.
    enum ParameterRule: Sendable {
        case integer
        case boolean
        case oneOf([String])
    }

    /// Typed query parameters per operation id.
    private let queryParameterRules: [String: [(name: String, rule: ParameterRule)]]

    /// Reads `paths` of the OpenAPI document.
    init(document: JSONValue) {
        let paths = document["paths"]?.objectValue ?? [:]
        let verbs = ["get", "put", "post", "patch", "delete", "head", "options"]
        self.routes = paths.map { path, item in
            let methods = verbs.filter { item[$0] != nil }.map { $0.uppercased() }
            return (path.split(separator: "/"), methods)
        }
        var rules: [String: [(name: String, rule: ParameterRule)]] = [:]
        for item in paths.values {
            for verb in verbs {
                guard let operation = item[verb], let id = operation["operationId"]?.stringValue else { continue }
                rules[id] = (operation["parameters"]?.arrayValue ?? []).compactMap { parameter in
                    let resolved = Self.resolve(parameter, in: document)
                    guard resolved["in"] == .string("query"), let name = resolved["name"]?.stringValue,
                        let schema = resolved["schema"].map({ Self.resolve($0, in: document) })
                    else { return nil }
                    if let values = schema["enum"]?.arrayValue?.compactMap(\.stringValue) {
                        return (name, .oneOf(values))
                    }
                    switch schema["type"]?.stringValue {
                    case "integer": return (name, .integer)
                    case "boolean": return (name, .boolean)
                    default: return nil
                    }
                }
            }
        }
        self.queryParameterRules = rules
    }

    private static func resolve(_ parameter: JSONValue, in document: JSONValue) -> JSONValue {
        guard let reference = parameter["$ref"]?.stringValue, reference.hasPrefix("#/") else { return parameter }
        return reference.dropFirst(2).split(separator: "/").reduce(document) { $0[String($1)] ?? .null }
    }

    /// Field errors for the typed query parameters of `operationID` whose values in `query` do not fit:
    /// the URI decoder says only that something failed, never which parameter.
    func invalidQueryParameters(operationID: String, query: Hummingbird.Parameters) -> [FieldError] {
        (queryParameterRules[operationID] ?? []).compactMap { name, rule in
            guard let value = query[name[...]] else { return nil }
            switch rule {
            case .integer where Int64(value) == nil:
                return FieldError(pointer: name, message: "must be an integer")
            case .boolean where !["true", "false"].contains(value):
                return FieldError(pointer: name, message: "must be true or false")
            case .oneOf(let values) where !values.contains(String(value)):
                return FieldError(pointer: name, message: "must be one of \(values.joined(separator: ", "))")
            default:
                return nil
            }
        }
    }

    /// The methods the contract allows on `path` (empty when no template matches).
    func allowedMethods(path: String) -> [String] {
        let segments = path.split(separator: "/")
        let matching = routes.filter { route in
            route.segments.count == segments.count
                && zip(route.segments, segments).allSatisfy { template, actual in
                    template.hasPrefix("{") || template == actual
                }
        }
        return Array(Set(matching.flatMap(\.methods))).sorted()
    }
}
