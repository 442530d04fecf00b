/// An immutable fact recorded in the same transaction as the change it describes (CloudEvents 1.0 shape).
public struct Event: Sendable, Hashable {
    /// The tenant whose log holds this event.
    public var tenantID: TenantID
    /// Strictly increasing per tenant; a reader that saw N never later sees an event ≤ N appear.
    public var sequence: Int64
    /// Unique per tenant; consumers deduplicate on it.
    public var id: String
    /// CloudEvents `source`, `/tenants/<tenant id>` unless the publisher set one.
    public var source: String
    /// Dotted event type, e.g. `instance.created`.
    public var type: String
    /// What the event is about, e.g. `instances/<id>`.
    public var subject: String?
    /// When the fact happened.
    public var time: Timestamp
    /// Media type of `data`; always `application/json` today.
    public var dataContentType: String
    /// The payload.
    public var data: JSONValue
    /// Tracing context carried along with the fact.
    public var context: EventContext

    /// Creates a stored event.
    public init(
        tenantID: TenantID,
        sequence: Int64,
        id: String,
        source: String,
        type: String,
        subject: String?,
        time: Timestamp,
        dataContentType: String = "application/json",
        data: JSONValue,
        context: EventContext = EventContext()
    ) {
        self.tenantID = tenantID
        self.sequence = sequence
        self.id = id
        self.source = source
        self.type = type
        self.subject = subject
        self.time = time
        self.dataContentType = dataContentType
        self.data = data
        self.context = context
    }
}

/// Who and what caused an event: the request, the principal, and the correlation chain.
public struct EventContext: Sendable, Hashable {
    /// Groups every event of one business operation.
    public var correlationID: String?
    /// The id of the command or event that caused this one.
    public var causationID: String?
    /// The HTTP request (`X-Request-ID`) that appended it.
    public var requestID: String?
    /// The principal (user or service account) that appended it.
    public var userID: String?

    /// Creates a context; every field is optional.
    public init(
        correlationID: String? = nil, causationID: String? = nil, requestID: String? = nil, userID: String? = nil
    ) {
        self.correlationID = correlationID
        self.causationID = causationID
        self.requestID = requestID
        self.userID = userID
    }
}

/// An event to append; the log assigns its sequence.
public struct NewEvent: Sendable, Hashable {
    /// Unique per tenant; generated (UUIDv7) unless the publisher supplies one.
    public var id: String
    /// Dotted event type.
    public var type: String
    /// What the event is about.
    public var subject: String?
    /// CloudEvents `source`; nil means `/tenants/<tenant id>`.
    public var source: String?
    /// When the fact happened.
    public var time: Timestamp
    /// The payload.
    public var data: JSONValue
    /// Tracing context.
    public var context: EventContext

    /// Creates an event to append.
    public init(
        id: String = UUIDv7.make().lowercasedString,
        type: String,
        subject: String? = nil,
        source: String? = nil,
        time: Timestamp = .now(),
        data: JSONValue = .object([:]),
        context: EventContext = EventContext()
    ) {
        self.id = id
        self.type = type
        self.subject = subject
        self.source = source
        self.time = time
        self.data = data
        self.context = context
    }

    /// The `source` the event is stored with.
    public func resolvedSource(for tenant: TenantID) -> String { source ?? "/tenants/\(tenant)" }

    /// The events a batch becomes once the log has reserved sequences up to `last` for it.
    public static func stored(_ events: [NewEvent], tenant: TenantID, lastSequence last: Int64) -> [Event] {
        events.enumerated().map { offset, new in
            Event(
                tenantID: tenant,
                sequence: last - Int64(events.count) + Int64(offset) + 1,
                id: new.id,
                source: new.resolvedSource(for: tenant),
                type: new.type,
                subject: new.subject,
                time: new.time,
                data: new.data,
                context: new.context
            )
        }
    }
}

/// Which events a reader wants, after a sequence it has already seen.
public struct EventQuery: Sendable, Hashable {
    /// Only events with a greater sequence.
    public var after: Int64
    /// At most this many, oldest first.
    public var limit: Int
    /// Only this exact type.
    public var type: String?
    /// Only this exact subject.
    public var subject: String?

    /// The largest page a reader may ask for.
    public static let maximumLimit = 1000
    /// The page size when a reader does not say.
    public static let defaultLimit = 100

    /// Creates a query.
    public init(after: Int64 = 0, limit: Int = EventQuery.defaultLimit, type: String? = nil, subject: String? = nil) {
        self.after = after
        self.limit = limit
        self.type = type
        self.subject = subject
    }
}
