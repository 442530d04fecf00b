extension Events {
    /// A `webhook.*` event: the subscription's settings after the change (never its secret).
    public static func webhook(_ type: EventType, _ webhook: Webhook, context: EventContext, at time: Timestamp)
        -> NewEvent
    {
        var data: [String: JSONValue] = [
            "webhook_id": .string(webhook.id.lowercasedString),
            "url": .string(webhook.url),
            "event_types": .array((webhook.filter.types.isEmpty ? ["*"] : webhook.filter.types).map(JSONValue.string)),
            "enabled": .bool(webhook.enabled),
            "format": .string(webhook.format.rawValue),
            "version": .int(webhook.version),
        ]
        if let reason = webhook.disabledReason { data["disabled_reason"] = .string(reason) }
        if type == .webhookDisabled { data["consecutive_failures"] = .int(Int64(webhook.consecutiveFailures)) }
        return NewEvent(
            type: type.rawValue, subject: "webhooks/\(webhook.id.lowercasedString)", time: time, data: .object(data),
            context: context)
    }
}
