import AgentplaneCore
import Foundation
import NIOCore

extension ChatModelClient {
    /// Reads a (non-streamed) chat completion: `choices[0].message.content`, `finish_reason`, `usage`, `model`.
    static func completion(parsing bytes: [UInt8]) throws(AttemptError) -> ChatCompletion {
        guard let json = JSONValue(parsing: bytes), json.objectValue != nil else {
            throw AttemptError.invalid(snippet(bytes))
        }
        if let error = json["error"], error != .null {
            throw AttemptError.invalid("an error: \(errorMessage(bytes))")
        }
        guard let choice = json["choices"]?.arrayValue?.first, let message = choice["message"]?.objectValue else {
            throw AttemptError.invalid("no choices[0].message in \(snippet(bytes))")
        }
        let content: String
        switch message["content"] {
        case .string(let text)?: content = text
        case .null?, nil: content = ""  // an answer of tool calls only
        default: throw AttemptError.invalid("choices[0].message.content is not a string")
        }
        return ChatCompletion(
            content: content, finishReason: choice["finish_reason"]?.stringValue,
            usage: TokenUsage(json: json["usage"]),
            model: json["model"]?.stringValue, attempts: 1)
    }

    /// The start of a body, for messages.
    static func snippet(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty { return "an empty body" }
        return bytes.count > 200 ? "\"\(text)…\"" : "\"\(text)\""
    }
}

/// Splits a server-sent event stream into lines (LF, CRLF or CR endings), across buffer boundaries.
struct ServerSentEventLines {
    private var pending: [UInt8] = []
    private var afterCR = false

    /// The complete lines `buffer` ends.
    mutating func append(_ buffer: ByteBuffer) -> [String] {
        var lines: [String] = []
        for byte in buffer.readableBytesView {
            if afterCR {
                afterCR = false
                if byte == 0x0A { continue }
            }
            switch byte {
            case 0x0A:
                lines.append(String(decoding: pending, as: UTF8.self))
                pending.removeAll(keepingCapacity: true)
            case 0x0D:
                lines.append(String(decoding: pending, as: UTF8.self))
                pending.removeAll(keepingCapacity: true)
                afterCR = true
            default:
                pending.append(byte)
            }
        }
        return lines
    }

    /// The last line, when the stream ended without a line break.
    mutating func finish() -> [String] {
        defer { pending = [] }
        return pending.isEmpty ? [] : [String(decoding: pending, as: UTF8.self)]
    }
}

/// What a stream of `chat.completion.chunk`s has said so far.
struct ChatStreamState {
    var content = ""
    var finishReason: String?
    var usage: TokenUsage?
    var model: String?
    /// `data: [DONE]` arrived.
    var done = false
    /// Some content has been handed on.
    var delivered = false
    /// How many chunks (JSON `data:` lines) arrived.
    var chunks = 0

    /// Reads one line; answers the content delta it carries, if any. Comments, `event:`/`id:` lines and
    /// blank lines carry none.
    mutating func consume(_ line: String) throws(AttemptError) -> String? {
        guard line.hasPrefix("data:") else { return nil }
        var payload = line.dropFirst(5)
        if payload.first == " " { payload = payload.dropFirst() }
        if payload.trimmingCharacters(in: .whitespaces) == "[DONE]" {
            done = true
            return nil
        }
        let bytes = Array(payload.utf8)
        guard let chunk = JSONValue(parsing: bytes), chunk.objectValue != nil else {
            throw delivered
                ? AttemptError.broken("sent a stream chunk that is not JSON: \(ChatModelClient.snippet(bytes))")
                : AttemptError.invalid("a stream chunk \(ChatModelClient.snippet(bytes))")
        }
        if let error = chunk["error"], error != .null {
            let message = "an error in the stream: \(ChatModelClient.errorMessage(bytes))"
            throw delivered ? AttemptError.broken("sent \(message)") : AttemptError.invalid(message)
        }
        chunks += 1
        if let name = chunk["model"]?.stringValue { model = name }
        if let reported = TokenUsage(json: chunk["usage"]) { usage = reported }
        guard let choice = chunk["choices"]?.arrayValue?.first else { return nil }
        if let reason = choice["finish_reason"]?.stringValue { finishReason = reason }
        guard let delta = choice["delta"]?["content"]?.stringValue, !delta.isEmpty else { return nil }
        content += delta
        delivered = true
        return delta
    }

    /// The completion the stream amounts to.
    var completion: ChatCompletion {
        ChatCompletion(content: content, finishReason: finishReason, usage: usage, model: model, attempts: 1)
    }
}
