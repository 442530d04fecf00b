import Foundation
import MCP

/// What a transport needs to know of an outgoing JSON-RPC message: its id and whether it is `initialize`.
struct OutgoingMessage {
    var id: String?
    var isInitialize = false

    init(_ data: Data) {
        guard let head = try? JSONDecoder().decode(Head.self, from: data) else { return }
        id = head.id?.text
        isInitialize = head.method == "initialize"
    }

    struct Head: Decodable {
        var id: RequestIDText?
        var method: String?
    }
}

/// The initialize reply's negotiated version.
struct InitializeReply: Decodable {
    var id: RequestIDText?
    var result: Result?

    struct Result: Decodable {
        var protocolVersion: String?
    }
}

/// A JSON-RPC id (string or number) as text, to compare ids of either kind.
struct RequestIDText: Decodable {
    var text: String

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int64.self) {
            text = "#\(number)"
        } else {
            text = try container.decode(String.self)
        }
    }
}

extension RequestIDText {
    /// The text of an SDK request id, as `RequestIDText` decodes it from the wire.
    init(_ id: ID) {
        switch id {
        case .number(let number): text = "#\(number)"
        case .string(let string): text = string
        }
    }
}
