import AgentplaneCore
import Foundation
import MCP

extension JSONValue {
    /// The MCP SDK's value for this JSON.
    var mcpValue: MCP.Value {
        switch self {
        case .null: return .null
        case .bool(let value): return .bool(value)
        case .int(let value): return Int(exactly: value).map(MCP.Value.int) ?? .double(Double(value))
        case .double(let value): return .double(value)
        case .string(let value): return .string(value)
        case .array(let values): return .array(values.map(\.mcpValue))
        case .object(let members): return .object(members.mapValues(\.mcpValue))
        }
    }

    /// The JSON of an MCP SDK value (binary data becomes its data URL, as the SDK encodes it).
    init(_ value: MCP.Value) {
        switch value {
        case .null: self = .null
        case .bool(let bool): self = .bool(bool)
        case .int(let int): self = .int(Int64(int))
        case .double(let double): self = .double(double)
        case .string(let string): self = .string(string)
        case .data:
            self = (try? JSONValue(encoding: value)) ?? .null
        case .array(let values): self = .array(values.map(JSONValue.init))
        case .object(let members): self = .object(members.mapValues(JSONValue.init))
        }
    }

    /// The JSON of any encodable SDK type (a content block), through its wire encoding.
    init(encoding value: some Encodable) throws {
        let data = try JSONEncoder().encode(value)
        self = try JSONDecoder().decode(JSONValue.self, from: data)
    }
}

extension MCPToolDescriptor {
    /// The descriptor of an SDK tool.
    init(_ tool: Tool) {
        self.init(name: tool.name, description: tool.description, inputSchema: JSONValue(tool.inputSchema))
    }
}

extension MCPToolResult {
    /// The result of an SDK `tools/call` reply.
    init(_ result: CallTool.Result) throws {
        self.init(
            isError: result.isError ?? false,
            content: try result.content.map { try JSONValue(encoding: $0) },
            structured: result.structuredContent.map(JSONValue.init))
    }
}
