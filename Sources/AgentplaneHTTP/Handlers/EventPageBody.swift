import AgentplaneCore
import Foundation
import HTTPTypes
import OpenAPIRuntime
import Synchronization

/// Writes a page of events as JSON straight from the payload text the log stores, so a page costs no
/// decoding and re-encoding of every payload.
///
/// The output is the `EventPage` schema exactly as the generated encoder writes it (keys sorted, fields
/// without a value left out, slashes unescaped, times with microseconds); only the bytes of each
/// `data` come from the log as they are (valid JSON, possibly spaced differently).
enum EventPageBody {
    /// The JSON of one page.
    static func render(_ events: some Collection<Event>, lastSequence: String, hasMore: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + events.count * 512)
        out.append(contentsOf: #"{"events":["#.utf8)
        var first = true
        for event in events {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            write(event, into: &out)
        }
        out.append(contentsOf: #"],"has_more":"#.utf8)
        out.append(contentsOf: (hasMore ? "true" : "false").utf8)
        out.append(contentsOf: #","last_sequence":"#.utf8)
        string(lastSequence, into: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// One event, keys in sorted order as `JSONEncoder` with `.sortedKeys` writes them.
    static func write(_ event: Event, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        var first = true
        func key(_ name: StaticString) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            out.append(contentsOf: #"":"#.utf8)
        }
        func field(_ name: StaticString, _ value: String?) {
            guard let value else { return }
            key(name)
            string(value, into: &out)
        }
        field("causationid", event.context.causationID)
        field("correlationid", event.context.correlationID)
        key("data")
        if let text = event.dataJSON {
            out.append(contentsOf: text.utf8)
        } else {
            out.append(contentsOf: (try? JSONEncoder().encode(event.data)) ?? Data("null".utf8))
        }
        field("datacontenttype", event.dataContentType)
        field("id", event.id)
        field("requestid", event.context.requestID)
        field("sequence", event.position.description)
        field("source", event.source)
        field("specversion", "1.0")
        field("subject", event.subject)
        field("time", event.time.rfc3339)
        field("type", event.type)
        field("userid", event.context.userID)
        out.append(UInt8(ascii: "}"))
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// A JSON string: quotes, backslashes and control characters escaped, everything else as UTF-8.
    static func string(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case 0x0A: out.append(contentsOf: #"\n"#.utf8)
            case 0x0D: out.append(contentsOf: #"\r"#.utf8)
            case 0x09: out.append(contentsOf: #"\t"#.utf8)
            case 0x08: out.append(contentsOf: #"\b"#.utf8)
            case 0x0C: out.append(contentsOf: #"\f"#.utf8)
            case 0..<0x20:
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// Hands a pre-rendered response body from a handler to `RawBodyMiddleware` (the generated API can only
/// return typed bodies, which it encodes itself).
final class RawBodySlot: Sendable {
    /// The slot of the request being handled, if its operation may answer with raw bytes.
    @TaskLocal static var current: RawBodySlot?

    private let bytes = Mutex<[UInt8]?>(nil)

    /// Sets the bytes the response body is replaced with.
    func fill(_ body: [UInt8]) { bytes.withLock { $0 = body } }

    /// The bytes a handler set, if any.
    var body: [UInt8]? { bytes.withLock { $0 } }
}

/// Lets the operations in `operations` answer with bytes their handler rendered itself: the handler
/// fills `RawBodySlot.current` and returns a placeholder typed body, which this replaces.
struct RawBodyMiddleware: ServerMiddleware {
    /// Operation ids that may answer with a raw body.
    let operations: Set<String>

    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard operations.contains(operationID) else { return try await next(request, body, metadata) }
        let slot = RawBodySlot()
        let (response, typed) = try await RawBodySlot.$current.withValue(slot) {
            try await next(request, body, metadata)
        }
        guard let raw = slot.body else { return (response, typed) }
        var replaced = response
        replaced.headerFields[.contentLength] = String(raw.count)
        return (replaced, HTTPBody(raw))
    }
}
