/// An immutable fact recorded in the same transaction as the change it describes (CloudEvents 1.0 shape).
///
/// Equality compares the payload as JSON values, not as text.
public struct Event: Sendable, Hashable {
    /// The tenant whose log holds this event.
    public var tenantID: TenantID
    /// Strictly increasing per tenant; a reader that saw position P never later sees an event ≤ P appear.
    public var position: EventPosition
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
    /// Tracing context carried along with the fact.
    public var context: EventContext
    /// The payload as a value, or nil when only its stored text is held (see `dataJSON`).
    private var decodedData: JSONValue?
    /// The payload exactly as the log stores it (valid JSON), when the event was read from a log:
    /// a reader that only forwards the payload writes this text and never decodes it.
    public private(set) var dataJSON: String?

    /// The payload; decoded from `dataJSON` on each access when the event was read from a log
    /// (`null` if the stored text is not JSON, which the logs never store).
    public var data: JSONValue {
        get { decodedData ?? dataJSON.flatMap { JSONValue(parsing: $0) } ?? .null }
        set {
            decodedData = newValue
            dataJSON = nil
        }
    }

    /// Creates a stored event.
    public init(
        tenantID: TenantID,
        position: EventPosition,
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
        self.position = position
        self.id = id
        self.source = source
        self.type = type
        self.subject = subject
        self.time = time
        self.dataContentType = dataContentType
        self.decodedData = data
        self.dataJSON = nil
        self.context = context
    }

    /// Creates an event read from a log, holding its payload as the stored JSON text.
    public init(
        tenantID: TenantID,
        position: EventPosition,
        id: String,
        source: String,
        type: String,
        subject: String?,
        time: Timestamp,
        dataContentType: String,
        dataJSON: String,
        context: EventContext
    ) {
        self.tenantID = tenantID
        self.position = position
        self.id = id
        self.source = source
        self.type = type
        self.subject = subject
        self.time = time
        self.dataContentType = dataContentType
        self.decodedData = nil
        self.dataJSON = dataJSON
        self.context = context
    }

    /// Equal when every field is, comparing payloads as JSON values.
    public static func == (lhs: Event, rhs: Event) -> Bool {
        lhs.tenantID == rhs.tenantID && lhs.position == rhs.position && lhs.id == rhs.id
            && lhs.source == rhs.source && lhs.type == rhs.type && lhs.subject == rhs.subject
            && lhs.time == rhs.time && lhs.dataContentType == rhs.dataContentType && lhs.context == rhs.context
            && lhs.data == rhs.data
    }

    /// Hashes the identifying fields (equal events share them).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(tenantID)
        hasher.combine(position)
        hasher.combine(id)
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

/// An event to append; the log assigns its position.
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

    /// The event this becomes once the log has given it `position`.
    public func stored(tenant: TenantID, position: EventPosition) -> Event {
        Event(
            tenantID: tenant,
            position: position,
            id: id,
            source: resolvedSource(for: tenant),
            type: type,
            subject: subject,
            time: time,
            data: data,
            context: context
        )
    }

    /// The events a batch becomes once the log has reserved counter values up to `last` for it
    /// (the SQLite log: a per-tenant counter in the position's fine half).
    public static func stored(_ events: [NewEvent], tenant: TenantID, lastCounter last: UInt64) -> [Event] {
        events.enumerated().map { offset, new in
            Event(
                tenantID: tenant,
                position: EventPosition(major: 0, minor: last - UInt64(events.count) + UInt64(offset) + 1),
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

/// Which events a reader wants, after a position it has already seen.
public struct EventQuery: Sendable, Hashable {
    /// Only events at a later position.
    public var after: EventPosition
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
    public init(
        after: EventPosition = .start, limit: Int = EventQuery.defaultLimit, type: String? = nil, subject: String? = nil
    ) {
        self.after = after
        self.limit = limit
        self.type = type
        self.subject = subject
    }
}
