import Foundation

/// The fields of a task a client sets (`POST /api/v1/tasks` and `PUT /api/v1/tasks/{id}`); nil keeps the
/// current value on an update and takes the default on a create.
public struct TaskFields: Sendable, Hashable {
    /// Title.
    public var title: String?
    /// Free text.
    public var description: String?
    /// `cron | rrule | once | event | condition`.
    public var scheduleKind: String?
    /// The schedule's expression.
    public var scheduleExpr: String?
    /// IANA time zone (default: the server's `--default-timezone`).
    public var timezone: String?
    /// The payload, with its `pipeline`.
    public var payload: [String: JSONValue]?
    /// 1 … 9 (default 5).
    public var priority: Int?
    /// Dedupe key of its runs.
    public var dedupeKey: String?
    /// Seconds the dedupe key holds (default 0).
    public var dedupeWindowSeconds: Int?
    /// Retries after a failed attempt (default 3).
    public var maxRetries: Int?
    /// `exponential_jitter` (default), `exponential`, `linear`, `fixed`.
    public var backoffStrategy: String?
    /// Concurrency key of its runs.
    public var concurrencyKey: String?
    /// Who created it, as the client says (default: the calling principal).
    public var createdBy: String?
    /// The instance the pipeline sees, as a UUID string.
    public var instanceID: String?
    /// `run_once` (default), `skip`, `run_all`.
    public var misfirePolicy: String?
    /// The version the caller read (`If-Match`); nil: the current one.
    public var expectedVersion: Int64?

    /// Creates the fields.
    public init(
        title: String? = nil, description: String? = nil, scheduleKind: String? = nil, scheduleExpr: String? = nil,
        timezone: String? = nil, payload: [String: JSONValue]? = nil, priority: Int? = nil,
        dedupeKey: String? = nil, dedupeWindowSeconds: Int? = nil, maxRetries: Int? = nil,
        backoffStrategy: String? = nil, concurrencyKey: String? = nil, createdBy: String? = nil,
        instanceID: String? = nil, misfirePolicy: String? = nil, expectedVersion: Int64? = nil
    ) {
        self.title = title
        self.description = description
        self.scheduleKind = scheduleKind
        self.scheduleExpr = scheduleExpr
        self.timezone = timezone
        self.payload = payload
        self.priority = priority
        self.dedupeKey = dedupeKey
        self.dedupeWindowSeconds = dedupeWindowSeconds
        self.maxRetries = maxRetries
        self.backoffStrategy = backoffStrategy
        self.concurrencyKey = concurrencyKey
        self.createdBy = createdBy
        self.instanceID = instanceID
        self.misfirePolicy = misfirePolicy
        self.expectedVersion = expectedVersion
    }
}

/// What a decision about a task needs to know besides the task: who calls, when, the server's defaults,
/// and what the use case found out about the payload (the tools it names, checked against their servers).
public struct TaskContext: Sendable {
    /// The principal that calls (`created_by` defaults to it).
    public var caller: String
    /// Event metadata.
    public var events: EventContext
    /// Now.
    public var now: Timestamp
    /// The server's default time zone.
    public var defaultTimezone: String
    /// Field errors the use case found in the payload (pipeline structure, unknown tools, schemas).
    public var payloadErrors: [FieldError]
    /// The instance named by `instance_id`, when it exists in the tenant.
    public var instance: Instance?

    /// Creates a context.
    public init(
        caller: String, events: EventContext, now: Timestamp, defaultTimezone: String,
        payloadErrors: [FieldError] = [], instance: Instance? = nil
    ) {
        self.caller = caller
        self.events = events
        self.now = now
        self.defaultTimezone = defaultTimezone
        self.payloadErrors = payloadErrors
        self.instance = instance
    }
}
