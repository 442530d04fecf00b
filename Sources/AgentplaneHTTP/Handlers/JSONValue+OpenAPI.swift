import AgentplaneAPI
import AgentplaneCore
import OpenAPIRuntime

extension JSONValue {
    /// Converts the generator's free-form container.
    init(_ container: OpenAPIValueContainer) {
        self.init(any: container.value)
    }

    private init(any value: (any Sendable)?) {
        switch value {
        case nil: self = .null
        case let value as Bool: self = .bool(value)
        case let value as Int: self = .int(Int64(value))
        case let value as Int64: self = .int(value)
        case let value as Double: self = .double(value)
        case let value as String: self = .string(value)
        case let value as [(any Sendable)?]: self = .array(value.map(JSONValue.init(any:)))
        case let value as [String: (any Sendable)?]: self = .object(value.mapValues(JSONValue.init(any:)))
        default: self = .string(String(describing: value))
        }
    }

    /// The generator's free-form container for this value.
    var container: OpenAPIValueContainer {
        // Every case maps to a type the container accepts, so this cannot fail.
        try! OpenAPIValueContainer(unvalidatedValue: anyValue)
    }

    var anyValue: (any Sendable)? {
        switch self {
        case .null: nil
        case .bool(let value): value
        case .int(let value): Int(value)
        case .double(let value): value
        case .string(let value): value
        case .array(let value): value.map(\.anyValue)
        case .object(let value): value.mapValues(\.anyValue)
        }
    }
}

extension Components.Schemas.Event {
    /// The wire form of a stored event.
    init(_ event: Event) {
        self.init(
            specversion: ._1_0,
            id: event.id,
            source: event.source,
            _type: event.type,
            subject: event.subject,
            time: event.time.date,
            datacontenttype: event.dataContentType,
            sequence: event.position.description,
            correlationid: event.context.correlationID,
            causationid: event.context.causationID,
            requestid: event.context.requestID,
            userid: event.context.userID,
            data: event.data.container
        )
    }
}
