import Foundation

/// A webhook as a client writes it (create, or a PUT's full replacement).
public struct WebhookFields: Sendable, Hashable {
    /// Where deliveries go.
    public var url: String
    /// Type patterns (nil: `["*"]`).
    public var eventTypes: [String]?
    /// Free text (nil: empty).
    public var description: String?
    /// Whether it delivers (nil: true).
    public var enabled: Bool?
    /// `cloudevents` or `seed000` (nil: `cloudevents`).
    public var format: String?
    /// `If-Match` on a replace.
    public var expectedVersion: Int64?

    /// Creates the fields.
    public init(
        url: String, eventTypes: [String]? = nil, description: String? = nil, enabled: Bool? = nil,
        format: String? = nil, expectedVersion: Int64? = nil
    ) {
        self.url = url
        self.eventTypes = eventTypes
        self.description = description
        self.enabled = enabled
        self.format = format
        self.expectedVersion = expectedVersion
    }
}

/// The decisions about webhooks: validation naming fields, the state each change leads to with its
/// events, the delivery runs, and when a failing subscription is disabled. Pure: time and ids passed in.
public enum WebhookDecisions {
    /// The run kind that performs one delivery.
    public static let deliverRun = "webhook.deliver"
    /// The longest URL accepted.
    public static let maximumURLLength = 2048
    /// The longest description accepted.
    public static let maximumDescriptionLength = 500

    /// What the fields say, checked: the URL, the filter and the format; errors name `/url`, `/event_types/N`,
    /// `/description`, `/format`.
    public static func checked(_ fields: WebhookFields) throws(AgentplaneError) -> (
        url: String, filter: EventFilter, format: EventFormat, description: String
    ) {
        var errors = urlErrors(fields.url)
        let patterns = fields.eventTypes ?? ["*"]
        var filter = EventFilter.all
        if patterns.isEmpty {
            errors.append(FieldError(pointer: "/event_types", message: "must hold at least one pattern (\"*\": all)"))
        } else {
            do {
                filter = try EventFilter(types: patterns, subject: nil)
            } catch {
                errors += error.fieldErrors
            }
        }
        let format = EventFormat(rawValue: fields.format ?? EventFormat.cloudevents.rawValue)
        if format == nil {
            errors.append(FieldError(pointer: "/format", message: "must be cloudevents or seed000"))
        }
        let description = fields.description ?? ""
        if description.count > maximumDescriptionLength || description.contains("\u{0}") {
            errors.append(
                FieldError(
                    pointer: "/description", message: "must be at most \(maximumDescriptionLength) characters"))
        }
        guard errors.isEmpty, let format else { throw .validation(errors) }
        return (fields.url, filter, format, description)
    }

    /// Errors of a delivery URL: an absolute http(s) URL with a host, no user info, at most 2048 characters.
    public static func urlErrors(_ text: String) -> [FieldError] {
        guard text.utf8.count <= maximumURLLength, let url = URL(string: text),
            let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty
        else {
            return [
                FieldError(
                    pointer: "/url",
                    message: "must be an absolute http or https URL of at most \(maximumURLLength) characters")
            ]
        }
        if url.user != nil || url.password != nil {
            return [FieldError(pointer: "/url", message: "must not hold credentials (user info)")]
        }
        return []
    }

    /// A new webhook and its `webhook.created` event.
    public static func create(
        _ fields: WebhookFields, id: UUID, tenant: TenantID, sealedSecret: String, context: EventContext,
        now: Timestamp
    ) throws(AgentplaneError) -> (Webhook, [NewEvent]) {
        let checked = try checked(fields)
        let webhook = Webhook(
            id: id, tenantID: tenant, url: checked.url, filter: checked.filter, description: checked.description,
            enabled: fields.enabled ?? true, format: checked.format, sealedSecret: sealedSecret, version: 1,
            createdAt: now, updatedAt: now)
        return (webhook, [Events.webhook(.webhookCreated, webhook, context: context, at: now)])
    }

    /// A PUT: the fields replace the current ones; enabling a disabled webhook clears its failures.
    public static func update(
        _ current: Webhook, _ fields: WebhookFields, context: EventContext, now: Timestamp
    ) throws(AgentplaneError) -> Change<Webhook> {
        let checked = try checked(fields)
        var next = current
        next.url = checked.url
        next.filter = checked.filter
        next.format = checked.format
        next.description = checked.description
        next.enabled = fields.enabled ?? true
        if next.enabled && !current.enabled {
            next.consecutiveFailures = 0
            next.disabledReason = nil
        }
        let expected = fields.expectedVersion ?? current.version
        next.version = expected + 1
        next.updatedAt = now
        return Change(
            state: next, expectedVersion: expected,
            events: [Events.webhook(.webhookUpdated, next, context: context, at: now)])
    }

    /// A new secret: the old one keeps signing for the policy's grace period.
    public static func rotate(
        _ current: Webhook, newSealedSecret: String, graceSeconds: Int64, context: EventContext, now: Timestamp
    ) -> Change<Webhook> {
        var next = current
        next.sealedPreviousSecret = current.sealedSecret
        next.previousSecretExpiresAt = now.adding(seconds: graceSeconds)
        next.sealedSecret = newSealedSecret
        next.version = current.version + 1
        next.updatedAt = now
        return Change(
            state: next, expectedVersion: current.version,
            events: [Events.webhook(.webhookSecretRotated, next, context: context, at: now)])
    }

    /// After a dead delivery raised the count of failures: the platform disables the webhook once the count
    /// reaches `threshold` (nil: nothing to change).
    public static func disableIfFailing(
        _ current: Webhook, threshold: Int, context: EventContext, now: Timestamp
    ) -> Change<Webhook>? {
        guard current.enabled, current.consecutiveFailures >= max(threshold, 1) else { return nil }
        var next = current
        next.enabled = false
        next.disabledReason =
            "disabled after \(current.consecutiveFailures) dead deliveries in a row; fix the receiver and enable it again"
        next.version = current.version + 1
        next.updatedAt = now
        return Change(
            state: next, expectedVersion: current.version,
            events: [Events.webhook(.webhookDisabled, next, context: context, at: now)])
    }

    /// The run that performs a delivery (its own backoff and attempts from the policy).
    public static func deliveryRun(_ delivery: WebhookDelivery, policy: WebhookPolicy, now: Timestamp) -> NewRun {
        NewRun(
            id: UUIDv7.make(at: now), kind: deliverRun, tenantID: delivery.tenantID,
            arguments: [
                "delivery_id": .string(delivery.id.lowercasedString),
                "webhook_id": .string(delivery.webhookID.lowercasedString),
            ],
            priority: NewRun.defaultPriority, runAt: now, maxAttempts: max(policy.maxAttempts, 1),
            backoff: policy.backoff, createdAt: now)
    }

    /// The 409 for replaying a delivery that is not `dead` or `skipped`.
    public static func replayRefusal(_ status: WebhookDeliveryStatus) -> AgentplaneError {
        AgentplaneError(
            .illegalTransition,
            "Only dead or skipped deliveries may be replayed; this one is \(status.rawValue).",
            details: ["from": .string(status.rawValue), "to": .string(WebhookDeliveryStatus.pending.rawValue)])
    }

    /// Whether an event is delivered to webhooks at all: the `run.*` events of delivery runs are not (a
    /// webhook subscribed to `*` would otherwise receive events about its own deliveries, without end).
    public static func isDeliverable(_ event: Event) -> Bool {
        guard event.type.hasPrefix("run.") else { return true }
        return event.data["kind"]?.stringValue != deliverRun
    }

    /// The deliveries one page of a tenant's log makes: each event that may be delivered, for each enabled
    /// webhook whose filter it matches, in log order.
    public static func deliveries(
        for events: [Event], to webhooks: [Webhook], policy: WebhookPolicy, now: Timestamp
    ) -> [(WebhookDelivery, NewRun)] {
        var made: [(WebhookDelivery, NewRun)] = []
        for event in events where isDeliverable(event) {
            for webhook in webhooks where webhook.enabled && webhook.filter.matches(event) {
                let body = String(decoding: webhook.format.render(event), as: UTF8.self)
                var delivery = WebhookDelivery(
                    id: UUIDv7.make(at: now), tenantID: webhook.tenantID, webhookID: webhook.id, eventID: event.id,
                    eventType: event.type, payload: body, createdAt: now, updatedAt: now)
                let run = deliveryRun(delivery, policy: policy, now: now)
                delivery.runID = run.id
                made.append((delivery, run))
            }
        }
        return made
    }
}
