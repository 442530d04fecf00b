import AgentplaneCore

/// The routes the contract declares, used to tell a wrong method (405) from an unknown path (404).
struct RouteTable: Sendable {
    private let routes: [(segments: [Substring], methods: [String])]

    /// Reads `paths` of the OpenAPI document.
    init(document: JSONValue) {
        let paths = document["paths"]?.objectValue ?? [:]
        let verbs = ["get", "put", "post", "patch", "delete", "head", "options"]
        self.routes = paths.map { path, item in
            let methods = verbs.filter { item[$0] != nil }.map { $0.uppercased() }
            return (path.split(separator: "/"), methods)
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
