import Foundation

/// A named consumer (seed 000's Kafka consumer groups, seed 002's stream consumers): a tenant's cursor
/// over its event log with a filter and a format. Reading a batch does not move it; an ack commits the
/// position of the last event the consumer has handled (at least once).
public struct Consumer: Sendable, Hashable {
    /// The tenant whose log it reads.
    public var tenantID: TenantID
    /// Unique in the tenant: `[a-z0-9][a-z0-9._-]{0,99}`.
    public var name: String
    /// Which events its batches hold.
    public var filter: EventFilter
    /// How its batches write each event.
    public var format: EventFormat
    /// The committed offset: every event at or before it is handled.
    public var offset: EventPosition
    /// Bumped by every change (ack or rewind).
    public var version: Int64
    /// Created.
    public var createdAt: Timestamp
    /// Last changed.
    public var updatedAt: Timestamp
    /// Last acknowledged, if ever.
    public var ackedAt: Timestamp?

    /// Creates a consumer.
    public init(
        tenantID: TenantID, name: String, filter: EventFilter, format: EventFormat, offset: EventPosition,
        version: Int64 = 1, createdAt: Timestamp, updatedAt: Timestamp, ackedAt: Timestamp? = nil
    ) {
        self.tenantID = tenantID
        self.name = name
        self.filter = filter
        self.format = format
        self.offset = offset
        self.version = version
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.ackedAt = ackedAt
    }
}

/// Where a new consumer starts.
public enum ConsumerStart: Sendable, Hashable {
    /// Before every event: the first batch is the log's first events.
    case beginning
    /// After the latest event visible now (the default): only new events.
    case end
    /// After this position.
    case position(EventPosition)

    /// Parses `start_at` (`beginning`, `end`, or a position); errors name `/start_at`.
    public init(parsing text: String?) throws(AgentplaneError) {
        switch text {
        case nil, "end": self = .end
        case "beginning": self = .beginning
        case let text?:
            guard let position = EventPosition(text) else {
                throw AgentplaneError.validation([
                    FieldError(pointer: "/start_at", message: "must be beginning, end, or a position (32 hex digits)")
                ])
            }
            self = .position(position)
        }
    }
}

/// The rules of named consumers.
public enum ConsumerDecisions {
    /// The most events one batch examines (matching or not), so a narrow filter over a long log still
    /// answers quickly; the batch's `next_offset` moves past what it examined.
    public static let maximumExamined = 5000
    /// Lag is counted up to this many events (`lag_capped` says when it is more).
    public static let lagCap = 100_000

    /// Whether `name` is a consumer name.
    public static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...100).contains(bytes.count), let first = bytes.first, isLowerAlphanumeric(first) else {
            return false
        }
        return bytes.allSatisfy {
            isLowerAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
        }
    }

    /// A new consumer at `offset`, after checking the name, filter and format (errors name their fields).
    public static func create(
        name: String, types: [String], subject: String?, format: String?, offset: EventPosition, tenant: TenantID,
        now: Timestamp
    ) throws(AgentplaneError) -> Consumer {
        var errors: [FieldError] = []
        if !isValidName(name) {
            errors.append(FieldError(pointer: "/name", message: "must match [a-z0-9][a-z0-9._-]{0,99}"))
        }
        var filter = EventFilter.all
        do {
            filter = try EventFilter(types: types, subject: subject)
        } catch {
            errors += error.fieldErrors
        }
        if let subject, subject.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            errors.append(FieldError(pointer: "/subject", message: "must not contain control characters"))
        }
        let chosen = EventFormat(rawValue: format ?? EventFormat.cloudevents.rawValue)
        if chosen == nil { errors.append(FieldError(pointer: "/format", message: "must be cloudevents or seed000")) }
        guard errors.isEmpty, let chosen else { throw AgentplaneError.validation(errors) }
        return Consumer(
            tenantID: tenant, name: name, filter: filter, format: chosen, offset: offset, createdAt: now, updatedAt: now
        )
    }

    /// The offset an ack commits: a position (else 422 naming `/offset`) not beyond `latest`, the end of the
    /// log visible now (422), and not before the committed one unless `rewind` (409: a late ack of an old
    /// batch must not move the consumer back and deliver it again).
    public static func ack(
        _ text: String, rewind: Bool, consumer: Consumer, latest: EventPosition
    ) throws(AgentplaneError) -> EventPosition {
        guard let offset = EventPosition(text) else {
            throw AgentplaneError.validation([
                FieldError(pointer: "/offset", message: "must be a position (32 lowercase hex digits)")
            ])
        }
        if offset > latest {
            throw AgentplaneError.validation([
                FieldError(pointer: "/offset", message: "is beyond the end of the log (\(latest))")
            ])
        }
        if offset < consumer.offset, !rewind {
            throw AgentplaneError(
                .conflict,
                "The offset is before the committed one (\(consumer.offset)); send \"rewind\": true to move back.",
                fieldErrors: [FieldError(pointer: "/offset", message: "is before the committed offset")])
        }
        return offset
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
