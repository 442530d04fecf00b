/// How an event is written to a subscriber.
///
/// - `cloudevents` (default): the CloudEvents 1.0 JSON of `GET /api/v1/events`, keys sorted.
/// - `seed000`: seed 000's produced message, `{"event":"instance_created","data":{…},"timestamp":"…"}`: the
///   type with dots turned into underscores, the data with `template_id` added (the agent id, seed 000's
///   template) when the data names an `agent_id`, the event's time; plus `id` (the event id, for idempotent
///   handling) and `sequence` (its position, to resume from).
public enum EventFormat: String, Sendable, Hashable, CaseIterable {
    /// CloudEvents 1.0 JSON.
    case cloudevents
    /// Seed 000's `{"event","data","timestamp"}` message.
    case seed000

    /// The JSON text of `event` in this format.
    public func render(_ event: Event) -> [UInt8] {
        var out = JSONWriter(capacity: 512)
        write(event, into: &out)
        return out.bytes
    }

    /// Writes `event` in this format.
    public func write(_ event: Event, into out: inout JSONWriter) {
        switch self {
        case .cloudevents: Self.writeCloudEvent(event, into: &out)
        case .seed000: Self.writeSeedMessage(event, into: &out)
        }
    }

    /// The CloudEvents JSON, keys in sorted order as `JSONEncoder` with `.sortedKeys` writes them; the payload
    /// is written from the text the log stored when there is one (never decoded and re-encoded).
    public static func writeCloudEvent(_ event: Event, into out: inout JSONWriter) {
        out.beginObject()
        out.field("causationid", event.context.causationID)
        out.field("correlationid", event.context.correlationID)
        if let text = event.dataJSON {
            out.rawField("data", text)
        } else {
            out.field("data", event.data)
        }
        out.field("datacontenttype", event.dataContentType)
        out.field("id", event.id)
        out.field("requestid", event.context.requestID)
        out.field("sequence", event.position.description)
        out.field("source", event.source)
        out.field("specversion", "1.0" as String)
        out.field("subject", event.subject)
        out.field("time", event.time.rfc3339)
        out.field("type", event.type)
        out.field("userid", event.context.userID)
        out.endObject()
    }

    /// Seed 000's message.
    static func writeSeedMessage(_ event: Event, into out: inout JSONWriter) {
        var data = event.data
        if case .object(var members) = data {
            if members["template_id"] == nil, let agent = members["agent_id"] { members["template_id"] = agent }
            data = .object(members)
        }
        out.beginObject()
        out.field("data", data)
        out.field("event", String(event.type.map { $0 == "." ? "_" : $0 }))
        out.field("id", event.id)
        out.field("sequence", event.position.description)
        out.field("timestamp", event.time.rfc3339)
        out.endObject()
    }
}
