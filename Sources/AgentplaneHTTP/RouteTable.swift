import AgentplaneCore
import Hummingbird

/// The routes the contract declares, used to tell a wrong method (405) from an unknown path (404).
struct RouteTable: Sendable {
    private let routes: [(segments: [Substring], methods: [String])]
    /// Integer-typed query parameters per operation id.
    private let integerQueryParameters: [String: [String]]

    /// Reads `paths` of the OpenAPI document.
    init(document: JSONValue) {
        let paths = document["paths"]?.objectValue ?? [:]
        let verbs = ["get", "put", "post", "patch", "delete", "head", "options"]
        self.routes = paths.map { path, item in
            let methods = verbs.filter { item[$0] != nil }.map { $0.uppercased() }
            return (path.split(separator: "/"), methods)
        }
        var integers: [String: [String]] = [:]
        for item in paths.values {
            for verb in verbs {
                guard let operation = item[verb], let id = operation["operationId"]?.stringValue else { continue }
                integers[id] = (operation["parameters"]?.arrayValue ?? []).compactMap { parameter in
                    let resolved = Self.resolve(parameter, in: document)
                    guard resolved["in"] == .string("query"), resolved["schema"]?["type"] == .string("integer") else {
                        return nil
                    }
                    return resolved["name"]?.stringValue
                }
            }
        }
        self.integerQueryParameters = integers
    }

    private static func resolve(_ parameter: JSONValue, in document: JSONValue) -> JSONValue {
        guard let reference = parameter["$ref"]?.stringValue, reference.hasPrefix("#/") else { return parameter }
        return reference.dropFirst(2).split(separator: "/").reduce(document) { $0[String($1)] ?? .null }
    }

    /// The integer query parameters of `operationID` whose values in `query` are not integers.
    func invalidIntegerParameters(operationID: String, query: Hummingbird.Parameters) -> [String] {
        (integerQueryParameters[operationID] ?? []).filter { name in
            guard let value = query[name[...]] else { return false }
            return Int64(value) == nil
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
