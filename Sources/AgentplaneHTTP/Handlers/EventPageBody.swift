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
        var out = JSONWriter(capacity: 256 + events.count * 512)
        out.beginObject()
        out.key("events")
        out.array(events) { write($0, into: &$1) }
        out.field("has_more", hasMore)
        out.field("last_sequence", lastSequence)
        out.endObject()
        return out.bytes
    }

    /// One event, as CloudEvents JSON.
    static func write(_ event: Event, into out: inout JSONWriter) {
        EventFormat.writeCloudEvent(event, into: &out)
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
