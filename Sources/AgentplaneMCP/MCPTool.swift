import AgentplaneCore
import Foundation

/// A tool an MCP server offers, as listed by `tools/list`.
public struct MCPToolDescriptor: Sendable, Hashable {
    /// The name to call it by.
    public var name: String
    /// What it does, in the server's words.
    public var description: String?
    /// The JSON Schema of its arguments.
    public var inputSchema: JSONValue

    /// A descriptor from its parts.
    public init(name: String, description: String?, inputSchema: JSONValue) {
        self.name = name
        self.description = description
        self.inputSchema = inputSchema
    }
}

/// The result of one `tools/call`.
public struct MCPToolResult: Sendable, Hashable {
    /// Whether the tool reported a failure (a result, not a protocol error).
    public var isError: Bool
    /// The content blocks, each as its JSON (`{"type": "text", "text": …}`, …).
    public var content: [JSONValue]
    /// The structured content, when the tool returned some.
    public var structured: JSONValue?

    /// A result from its parts.
    public init(isError: Bool, content: [JSONValue], structured: JSONValue?) {
        self.isError = isError
        self.content = content
        self.structured = structured
    }

    /// The one value a caller works with: the structured content if present; else the single text block
    /// parsed as JSON when it is JSON; else `{"text": <every text block joined by "\n">}`.
    public var output: JSONValue {
        if let structured { return structured }
        let texts = content.compactMap { block -> String? in
            guard block["type"]?.stringValue == "text" else { return nil }
            return block["text"]?.stringValue
        }
        if texts.count == 1, let parsed = try? JSONDecoder().decode(JSONValue.self, from: Data(texts[0].utf8)) {
            return parsed
        }
        return ["text": .string(texts.joined(separator: "\n"))]
    }
}
