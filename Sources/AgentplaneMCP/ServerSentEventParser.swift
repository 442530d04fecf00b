/// One event of a `text/event-stream`.
public struct ServerSentEvent: Sendable, Hashable {
    /// The `event:` field; nil means the default type, "message".
    public var event: String?
    /// The `data:` lines joined by "\n".
    public var data: String
    /// The last `id:` seen in the stream so far (for resumption).
    public var id: String?

    /// An event from its parts.
    public init(event: String? = nil, data: String, id: String? = nil) {
        self.event = event
        self.data = data
        self.id = id
    }
}

/// An incremental `text/event-stream` parser (WHATWG HTML §9.2.6): feed it bytes as they arrive, in
/// chunks cut anywhere (inside a line, a UTF-8 sequence or between CR and LF), and take the events
/// completed so far. Lines end in LF, CR or CRLF; `:` lines are comments; `retry:` is ignored.
public struct ServerSentEventParser: Sendable {
    private var line: [UInt8] = []
    private var afterCarriageReturn = false
    private var atStreamStart = true
    private var data = ""
    private var hasData = false
    private var event: String?
    private var lastEventID: String?

    /// A parser at the start of a stream.
    public init() {}

    /// Consumes `bytes` and returns the events they complete, in order.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            if afterCarriageReturn {
                afterCarriageReturn = false
                if byte == 0x0A { continue }  // the LF of a CRLF whose CR ended the line already
            }
            switch byte {
            case 0x0A:
                if let event = endLine() { events.append(event) }
            case 0x0D:
                afterCarriageReturn = true
                if let event = endLine() { events.append(event) }
            default:
                line.append(byte)
            }
        }
        return events
    }

    /// Handles one complete line; a blank line dispatches the event being built, if it has data.
    private mutating func endLine() -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if atStreamStart {
            atStreamStart = false
            if line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }
        }
        guard !line.isEmpty else { return dispatch() }
        if line[0] == UInt8(ascii: ":") { return nil }
        let field: String
        let value: String
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            field = String(decoding: line[..<colon], as: UTF8.self)
            var start = line.index(after: colon)
            if start < line.endIndex, line[start] == UInt8(ascii: " ") { start = line.index(after: start) }
            value = String(decoding: line[start...], as: UTF8.self)
        } else {
            field = String(decoding: line, as: UTF8.self)
            value = ""
        }
        switch field {
        case "data":
            if hasData { data += "\n" }
            data += value
            hasData = true
        case "event":
            event = value
        case "id":
            if !value.contains("\0") { lastEventID = value }
        default:
            break  // "retry" and unknown fields are ignored
        }
        return nil
    }

    /// The event built since the last blank line (nil when it has no data), and a fresh one started.
    private mutating func dispatch() -> ServerSentEvent? {
        defer {
            data = ""
            hasData = false
            event = nil
        }
        guard hasData else { return nil }
        return ServerSentEvent(event: event.flatMap { $0.isEmpty ? nil : $0 }, data: data, id: lastEventID)
    }
}
