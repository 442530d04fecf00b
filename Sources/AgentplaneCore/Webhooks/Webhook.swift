import Foundation

/// A tenant's webhook subscription: matching events are POSTed, signed (Standard Webhooks), to `url`.
public struct Webhook: Sendable, Hashable, Identifiable {
    /// Id (UUIDv7).
    public var id: UUID
    /// Owner.
    public var tenantID: TenantID
    /// Where deliveries are POSTed (http or https).
    public var url: String
    /// Which events it receives (type patterns; `["*"]` by default).
    public var filter: EventFilter
    /// Free text for the tenant.
    public var description: String
    /// Whether new events are delivered (false: disabled by the tenant, or by the platform after failures).
    public var enabled: Bool
    /// How a delivery's body is written.
    public var format: EventFormat
    /// The signing secret, sealed with the operator's key (never stored or returned plain).
    public var sealedSecret: String
    /// The secret replaced by the last rotation, sealed, while it still signs (its grace period).
    public var sealedPreviousSecret: String?
    /// Until when the previous secret also signs.
    public var previousSecretExpiresAt: Timestamp?
    /// Dead deliveries in a row (any delivered one resets it).
    public var consecutiveFailures: Int
    /// Why the platform disabled it, when it did.
    public var disabledReason: String?
    /// Bumped by each change a client makes (and by the platform disabling it).
    public var version: Int64
    /// Created.
    public var createdAt: Timestamp
    /// Last changed.
    public var updatedAt: Timestamp

    /// Creates a webhook value.
    public init(
        id: UUID, tenantID: TenantID, url: String, filter: EventFilter, description: String, enabled: Bool,
        format: EventFormat, sealedSecret: String, sealedPreviousSecret: String? = nil,
        previousSecretExpiresAt: Timestamp? = nil, consecutiveFailures: Int = 0, disabledReason: String? = nil,
        version: Int64, createdAt: Timestamp, updatedAt: Timestamp
    ) {
        self.id = id
        self.tenantID = tenantID
        self.url = url
        self.filter = filter
        self.description = description
        self.enabled = enabled
        self.format = format
        self.sealedSecret = sealedSecret
        self.sealedPreviousSecret = sealedPreviousSecret
        self.previousSecretExpiresAt = previousSecretExpiresAt
        self.consecutiveFailures = consecutiveFailures
        self.disabledReason = disabledReason
        self.version = version
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The sealed secrets that sign at `now`: the current one, and the previous one during its grace period.
    public func signingSecrets(at now: Timestamp) -> [String] {
        guard let previous = sealedPreviousSecret, let until = previousSecretExpiresAt, now < until else {
            return [sealedSecret]
        }
        return [sealedSecret, previous]
    }

    /// The name a secret of this webhook is sealed under (the tenant is bound too).
    public var secretSealName: String { "webhook:\(id.lowercasedString)" }
}

/// Where a delivery stands: `pending` (waiting for its next attempt) → `succeeded` | `dead`; `skipped` when
/// its webhook was disabled before it was sent. `dead` and `skipped` ones may be replayed (→ `pending`).
public enum WebhookDeliveryStatus: String, Sendable, Hashable, CaseIterable {
    case pending
    case succeeded
    case dead
    case skipped

    /// Whether a replay may send it again.
    public var isReplayable: Bool { self == .dead || self == .skipped }
}

/// One event (or a test) to deliver to one webhook; unique per (webhook, event).
public struct WebhookDelivery: Sendable, Hashable, Identifiable {
    /// Id (UUIDv7).
    public var id: UUID
    /// Owner.
    public var tenantID: TenantID
    /// The subscription.
    public var webhookID: UUID
    /// The event's id: the `webhook-id` header, stable across retries and replays.
    public var eventID: String
    /// The event's type.
    public var eventType: String
    /// The body, rendered once when the delivery was made (the same bytes on every attempt).
    public var payload: String
    /// Where it stands.
    public var status: WebhookDeliveryStatus
    /// Attempts made so far (every round).
    public var attempts: Int
    /// The last attempt's HTTP status, when one answered.
    public var lastStatusCode: Int?
    /// The last attempt's error, when it failed.
    public var lastError: String?
    /// The run that performs it (a replay enqueues a new one).
    public var runID: UUID?
    /// Whether it was made by `POST /webhooks/{id}/test` (never counted against the webhook).
    public var isTest: Bool
    /// Created.
    public var createdAt: Timestamp
    /// Last changed.
    public var updatedAt: Timestamp

    /// Creates a delivery value.
    public init(
        id: UUID, tenantID: TenantID, webhookID: UUID, eventID: String, eventType: String, payload: String,
        status: WebhookDeliveryStatus = .pending, attempts: Int = 0, lastStatusCode: Int? = nil,
        lastError: String? = nil, runID: UUID? = nil, isTest: Bool = false, createdAt: Timestamp, updatedAt: Timestamp
    ) {
        self.id = id
        self.tenantID = tenantID
        self.webhookID = webhookID
        self.eventID = eventID
        self.eventType = eventType
        self.payload = payload
        self.status = status
        self.attempts = attempts
        self.lastStatusCode = lastStatusCode
        self.lastError = lastError
        self.runID = runID
        self.isTest = isTest
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// One HTTP attempt of a delivery, as logged.
public struct WebhookAttempt: Sendable, Hashable {
    /// The delivery.
    public var deliveryID: UUID
    /// Owner.
    public var tenantID: TenantID
    /// 1-based, over the delivery's whole life.
    public var number: Int
    /// When it was sent.
    public var attemptedAt: Timestamp
    /// The answer's status, when there was one.
    public var statusCode: Int?
    /// Milliseconds from sending to the answer (or the failure).
    public var latencyMilliseconds: Int
    /// The first bytes of the answer's body (at most `WebhookAttempt.snippetBytes`).
    public var responseSnippet: String?
    /// Why it failed without an answer (or was refused).
    public var error: String?

    /// The longest response snippet kept.
    public static let snippetBytes = 1024
    /// Attempts kept per delivery (older ones are dropped).
    public static let keptPerDelivery = 25

    /// Creates an attempt value.
    public init(
        deliveryID: UUID, tenantID: TenantID, number: Int, attemptedAt: Timestamp, statusCode: Int?,
        latencyMilliseconds: Int, responseSnippet: String?, error: String?
    ) {
        self.deliveryID = deliveryID
        self.tenantID = tenantID
        self.number = number
        self.attemptedAt = attemptedAt
        self.statusCode = statusCode
        self.latencyMilliseconds = latencyMilliseconds
        self.responseSnippet = responseSnippet
        self.error = error
    }

    /// Whether the receiver took the delivery (any 2xx).
    public var succeeded: Bool { statusCode.map { (200..<300).contains($0) } ?? false }

    /// `text` cut to `snippetBytes` bytes at a character boundary.
    public static func snippet(_ text: String) -> String {
        guard text.utf8.count > snippetBytes else { return text }
        var out = ""
        var used = 0
        for character in text {
            let size = character.utf8.count
            if used + size > snippetBytes { break }
            out.append(character)
            used += size
        }
        return out
    }
}
