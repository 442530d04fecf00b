import AgentplaneAPI
import AgentplaneCore
import Foundation
import Yams

/// The OpenAPI contract in the forms the meta routes serve, prepared once at start-up.
package struct ContractDocument: Sendable {
    /// The document as a JSON value.
    package let document: JSONValue
    /// `openapi.yaml`, byte for byte.
    package let yaml: String
    /// The same document as compact JSON.
    package let json: Data
    /// The `/docs` page.
    package let html: String

    /// Parses the embedded contract.
    package init() throws {
        self.yaml = OpenAPIDocument.yaml
        guard let node = try Yams.compose(yaml: yaml) else { throw CocoaError(.fileReadCorruptFile) }
        self.document = Self.json(from: node)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        self.json = try encoder.encode(document)
        self.html = APIReferencePage.render(document)
    }

    /// Route templates of operations marked `x-secret-response`, in both the contract's `{name}` and
    /// Hummingbird's `:name` spelling.
    package var secretResponseRoutes: Set<String> {
        var routes: Set<String> = []
        for (path, item) in document["paths"]?.objectValue ?? [:] {
            for (_, operation) in item.objectValue ?? [:] where operation["x-secret-response"] == .bool(true) {
                routes.insert(path)
                routes.insert(path.replacingOccurrences(of: "{", with: ":").replacingOccurrences(of: "}", with: ""))
            }
        }
        return routes
    }

    /// The contract's `info.version`.
    package var apiVersion: String { document["info"]?["version"]?.stringValue ?? "unknown" }

    /// YAML node → JSON, by resolved tag: quoted `'1.0'` stays a string, plain `1.0` is a number.
    private static func json(from node: Node) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return .null
            case .bool: return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case .int: return node.int.map { .int(Int64($0)) } ?? .string(scalar.string)
            case .float: return node.float.map(JSONValue.double) ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case .mapping(let mapping):
            return .object(
                Dictionary(mapping.map { ($0.key.string ?? "", json(from: $0.value)) }) { first, _ in first })
        case .sequence(let sequence):
            return .array(sequence.map(json(from:)))
        case .alias:
            return .null
        }
    }
}
