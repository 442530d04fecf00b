import Foundation

/// The rules of the gateway (DESIGN §6): activating and deactivating an instance's route, and who may call
/// through it. Pure: the use cases read the state, these decide, the store commits.
public enum GatewayDecisions {
    /// Activates `instance`: it must be running and declare a runtime (409 `INSTANCE_NOT_RUNNING` /
    /// `INSTANCE_NOT_RUNNABLE`). Nil when it is already active (idempotent: nothing to store, no event).
    public static func activate(
        _ instance: Instance, current: InstanceActivation?, by subject: String, context: EventContext,
        now: Timestamp
    ) throws(AgentplaneError) -> (InstanceActivation, [NewEvent])? {
        _ = try InstanceRuns.runtime(of: instance)
        if current?.active == true { return nil }
        var next = current ?? .never(instance)
        next.active = true
        next.activatedAt = now
        next.activatedBy = subject
        return (next, [Events.instanceActivated(next, context: context, at: now)])
    }

    /// Deactivates `instance`'s route. Nil when it is not active (idempotent).
    public static func deactivate(
        _ instance: Instance, current: InstanceActivation?, context: EventContext, now: Timestamp
    ) -> (InstanceActivation, [NewEvent])? {
        guard var next = current, next.active else { return nil }
        next.active = false
        next.deactivatedAt = now
        return (next, [Events.instanceDeactivated(next, reason: "deactivated", context: context, at: now)])
    }

    /// The events deleting `instance` adds: `instance.deactivated` when its route was active.
    public static func deleted(_ current: InstanceActivation?, context: EventContext, now: Timestamp) -> [NewEvent] {
        guard var activation = current, activation.active else { return [] }
        activation.active = false
        activation.deactivatedAt = now
        return [Events.instanceDeactivated(activation, reason: "deleted", context: context, at: now)]
    }

    /// Whether a gateway call may reach `instance` (nil: not found in the caller's tenant): its runtime, else
    /// 404 `INSTANCE_NOT_ACTIVATED` (unknown, another tenant's, or not active: one answer for all) or 409
    /// `INSTANCE_NOT_RUNNING` / `INSTANCE_NOT_RUNNABLE`.
    public static func admit(_ instance: Instance?, activation: InstanceActivation?) throws(AgentplaneError)
        -> InstanceRuntime
    {
        guard let instance, let activation, activation.active, activation.instanceID == instance.id,
            activation.tenantID == instance.tenantID
        else { throw notActivated }
        return try InstanceRuns.runtime(of: instance)
    }

    /// The one answer for a route that leads nowhere: unknown, another tenant's, or not active.
    public static var notActivated: AgentplaneError {
        AgentplaneError(
            .instanceNotActivated,
            "No activated instance has this gateway route; activate it with POST /api/v1/instances/{id}/activate.")
    }

    /// The gateway's answer for a method a `pipeline` or `chat` instance does not take (only POST runs it).
    public static func runtimeMethodNotAllowed(_ kind: RuntimeKind, method: String) -> AgentplaneError {
        AgentplaneError(
            .methodNotAllowed,
            "A \(kind.rawValue) instance is run through the gateway with POST (its JSON body is the run's input), "
                + "not \(method).")
    }
}
