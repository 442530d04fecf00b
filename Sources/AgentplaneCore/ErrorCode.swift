/// The stable error codes clients can rely on; `docs/errors.md` documents every one.
public enum ErrorCode: String, Sendable, CaseIterable {
    case malformedJSON = "MALFORMED_JSON"
    case validationFailed = "VALIDATION_FAILED"
    case unsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
    case notAcceptable = "NOT_ACCEPTABLE"
    case unauthenticated = "UNAUTHENTICATED"
    case forbidden = "FORBIDDEN"
    case routeNotFound = "ROUTE_NOT_FOUND"
    case notFound = "NOT_FOUND"
    case tenantSuspended = "TENANT_SUSPENDED"
    case insufficientScope = "INSUFFICIENT_SCOPE"
    case quotaExceeded = "QUOTA_EXCEEDED"
    case agentUnavailable = "AGENT_UNAVAILABLE"
    case preconditionFailed = "PRECONDITION_FAILED"
    case methodNotAllowed = "METHOD_NOT_ALLOWED"
    case payloadTooLarge = "PAYLOAD_TOO_LARGE"
    case rateLimited = "RATE_LIMITED"
    case conflict = "CONFLICT"
    case illegalTransition = "ILLEGAL_TRANSITION"
    case eventIDConflict = "EVENT_ID_CONFLICT"
    case idempotencyInProgress = "IDEMPOTENCY_IN_PROGRESS"
    case idempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED"
    case reservedEventType = "RESERVED_EVENT_TYPE"
    case badRequest = "BAD_REQUEST"
    case databaseUnavailable = "DATABASE_UNAVAILABLE"
    case shuttingDown = "SHUTTING_DOWN"
    case badGateway = "UPSTREAM_FAILED"
    case upstreamTimeout = "UPSTREAM_TIMEOUT"
    case instanceNotRunning = "INSTANCE_NOT_RUNNING"
    case instanceNotRunnable = "INSTANCE_NOT_RUNNABLE"
    case instanceNotActivated = "INSTANCE_NOT_ACTIVATED"
    case internalError = "INTERNAL_ERROR"

    /// The HTTP status this code is answered with.
    public var status: Int {
        switch self {
        case .malformedJSON, .badRequest: 400
        case .unauthenticated: 401
        case .forbidden, .tenantSuspended, .insufficientScope, .quotaExceeded: 403
        case .routeNotFound, .notFound, .instanceNotActivated: 404
        case .preconditionFailed: 412
        case .methodNotAllowed: 405
        case .notAcceptable: 406
        case .conflict, .eventIDConflict, .idempotencyInProgress, .illegalTransition, .instanceNotRunning,
            .instanceNotRunnable:
            409
        case .payloadTooLarge: 413
        case .unsupportedMediaType: 415
        case .rateLimited: 429
        case .validationFailed, .reservedEventType, .idempotencyKeyReused, .agentUnavailable: 422
        case .internalError: 500
        case .badGateway: 502
        case .upstreamTimeout: 504
        case .databaseUnavailable, .shuttingDown: 503
        }
    }

    /// A short, human-readable summary that does not change between occurrences.
    public var title: String {
        switch self {
        case .malformedJSON: "Malformed JSON"
        case .validationFailed: "Validation failed"
        case .unsupportedMediaType: "Unsupported media type"
        case .notAcceptable: "Not acceptable"
        case .unauthenticated: "Authentication required"
        case .forbidden: "Forbidden"
        case .routeNotFound: "Not found"
        case .notFound: "Resource not found"
        case .tenantSuspended: "Tenant suspended"
        case .insufficientScope: "Insufficient scope"
        case .quotaExceeded: "Quota exceeded"
        case .agentUnavailable: "Agent unavailable"
        case .preconditionFailed: "Precondition failed"
        case .methodNotAllowed: "Method not allowed"
        case .payloadTooLarge: "Payload too large"
        case .rateLimited: "Too many requests"
        case .conflict: "Conflict"
        case .illegalTransition: "Illegal status transition"
        case .eventIDConflict: "Event id already used"
        case .idempotencyInProgress: "Request with this Idempotency-Key in progress"
        case .idempotencyKeyReused: "Idempotency-Key reused with a different request"
        case .reservedEventType: "Reserved event type"
        case .badRequest: "Bad request"
        case .databaseUnavailable: "Database unavailable"
        case .shuttingDown: "Shutting down"
        case .badGateway: "Upstream failed"
        case .upstreamTimeout: "Upstream timed out"
        case .instanceNotRunning: "Instance not running"
        case .instanceNotRunnable: "Instance not runnable"
        case .instanceNotActivated: "Instance not activated"
        case .internalError: "Internal server error"
        }
    }

    /// The problem `type` URI: a stable, documented identifier.
    public var typeURI: String {
        "https://agentplane.dev/problems/\(rawValue.lowercased().replacingOccurrences(of: "_", with: "-"))"
    }
}

/// One invalid field of a request: where (a JSON pointer) and why.
public struct FieldError: Sendable, Hashable, Codable {
    /// JSON pointer to the offending value, e.g. `/data/name` or `/type`.
    public var pointer: String
    /// What is wrong, in words a client developer can act on.
    public var message: String

    /// Creates a field error.
    public init(pointer: String, message: String) {
        self.pointer = pointer
        self.message = message
    }
}

/// An expected failure with a stable code: everything a client can cause ends up as one of these.
public struct AgentplaneError: Error, Sendable, CustomStringConvertible {
    /// The catalogue entry.
    public var code: ErrorCode
    /// The explanation specific to this occurrence; never contains secrets or internals.
    public var detail: String
    /// Field-level problems, for validation failures.
    public var fieldErrors: [FieldError]
    /// Extra machine-readable context (e.g. the limit that was exceeded).
    public var details: [String: JSONValue]

    /// Creates an error.
    public init(
        _ code: ErrorCode,
        _ detail: String,
        fieldErrors: [FieldError] = [],
        details: [String: JSONValue] = [:]
    ) {
        self.code = code
        self.detail = detail
        self.fieldErrors = fieldErrors
        self.details = details
    }

    /// A validation failure listing every invalid field.
    public static func validation(_ fieldErrors: [FieldError]) -> AgentplaneError {
        let detail =
            fieldErrors.count == 1
            ? (fieldErrors[0].pointer.isEmpty ? "" : "\(fieldErrors[0].pointer): ") + fieldErrors[0].message
            : "\(fieldErrors.count) fields are invalid."
        return AgentplaneError(.validationFailed, detail, fieldErrors: fieldErrors)
    }

    /// Query parameters outside their range: `BAD_REQUEST` (400) naming each one, as for a parameter of
    /// the wrong type. A parameter is part of the URL, so its errors are 400; `validation` (422) is for bodies.
    public static func badQuery(_ fieldErrors: [FieldError]) -> AgentplaneError {
        let detail =
            fieldErrors.count == 1
            ? "Query parameter `\(fieldErrors[0].pointer)` \(fieldErrors[0].message)."
            : "\(fieldErrors.count) query parameters are invalid."
        return AgentplaneError(.badRequest, detail, fieldErrors: fieldErrors)
    }

    public var description: String { "\(code.rawValue): \(detail)" }
}
