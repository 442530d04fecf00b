import Foundation

/// Every event type the platform itself emits. `docs/events.md` documents each one (a test checks
/// both directions); clients may publish other types through `POST /api/v1/events`.
public enum EventType: String, Sendable, CaseIterable {
    case tenantCreated = "tenant.created"
    case tenantUpdated = "tenant.updated"
    case tenantDeleted = "tenant.deleted"
    case serviceAccountCreated = "service_account.created"
    case serviceAccountDeleted = "service_account.deleted"
    case apiKeyCreated = "api_key.created"
    case apiKeyRevoked = "api_key.revoked"
    case userCreated = "user.created"
    case agentCreated = "agent.created"
    case agentUpdated = "agent.updated"
    case agentActivationCodeChanged = "agent.activation_code_changed"
    case agentDeleted = "agent.deleted"
    case instanceCreated = "instance.created"
    case instanceUpdated = "instance.updated"
    case instanceStatusChanged = "instance.status_changed"
    case instanceDeleted = "instance.deleted"
    case instanceActivated = "instance.activated"
    case instanceDeactivated = "instance.deactivated"
    case instanceHealthChanged = "instance.health_changed"
    case knowledgeBaseCreated = "knowledge_base.created"
    case entryCreated = "knowledge_base.entry.created"
    case entryUpdated = "knowledge_base.entry.updated"
    case entryStatusChanged = "knowledge_base.entry.status_changed"
    case entryDeleted = "knowledge_base.entry.deleted"
    case taskCreated = "task.created"
    case taskUpdated = "task.updated"
    case taskStatusChanged = "task.status_changed"
    case taskDeleted = "task.deleted"
    case taskFired = "task.fired"
    case runQueued = "run.queued"
    case runStarted = "run.started"
    case runSucceeded = "run.succeeded"
    case runFailed = "run.failed"
    case runDead = "run.dead"
    case runCancelled = "run.cancelled"
    case runOutput = "run.output"
    case webhookCreated = "webhook.created"
    case webhookUpdated = "webhook.updated"
    case webhookDeleted = "webhook.deleted"
    case webhookDisabled = "webhook.disabled"
    case webhookSecretRotated = "webhook.secret_rotated"
    case commandAccepted = "command.accepted"
    case commandSucceeded = "command.succeeded"
    case commandFailed = "command.failed"
    case commandReplayed = "command.replayed"
}

/// The one place the platform's events are built: the type, subject and payload of each.
public enum Events {
    /// A `tenant.*` event.
    public static func tenant(_ type: EventType, _ tenant: Tenant, context: EventContext, at time: Timestamp)
        -> NewEvent
    {
        NewEvent(
            type: type.rawValue,
            subject: "tenants/\(tenant.id)",
            time: time,
            data: .object([
                "tenant_id": .string(tenant.id.description),
                "slug": .string(tenant.slug),
                "name": .string(tenant.name),
                "status": .string(tenant.status.rawValue),
            ]),
            context: context
        )
    }

    /// A `service_account.*` event.
    public static func serviceAccount(
        _ type: EventType, _ account: ServiceAccount, context: EventContext, at time: Timestamp
    ) -> NewEvent {
        NewEvent(
            type: type.rawValue,
            subject: "service_accounts/\(account.id.lowercasedString)",
            time: time,
            data: .object([
                "service_account_id": .string(account.id.lowercasedString),
                "name": .string(account.name),
                "role": .string(account.role.rawValue),
            ]),
            context: context
        )
    }

    /// What `api_key.created` says about a key.
    public struct KeyFacts: Sendable, Hashable {
        /// The key's row id.
        public var id: UUID
        /// Its public prefix.
        public var prefix: String
        /// Its role.
        public var role: Role
        /// Its scopes.
        public var scopes: [String]
        /// The account it belongs to, if any.
        public var serviceAccountID: UUID?
        /// Whether it is the bootstrap key.
        public var isBootstrap: Bool

        /// Creates the facts.
        public init(
            id: UUID, prefix: String, role: Role, scopes: [String], serviceAccountID: UUID?, isBootstrap: Bool
        ) {
            self.id = id
            self.prefix = prefix
            self.role = role
            self.scopes = scopes
            self.serviceAccountID = serviceAccountID
            self.isBootstrap = isBootstrap
        }
    }

    /// `api_key.created`, however the key was made (API, CLI, bootstrap).
    public static func apiKeyCreated(_ key: KeyFacts, context: EventContext, at time: Timestamp) -> NewEvent {
        var data: [String: JSONValue] = [
            "key_id": .string(key.id.lowercasedString),
            "prefix": .string(key.prefix),
            "role": .string(key.role.rawValue),
            "scopes": .array(key.scopes.map(JSONValue.string)),
            "service_account_id": key.serviceAccountID.map { .string($0.lowercasedString) } ?? .null,
        ]
        if key.isBootstrap { data["bootstrap"] = .bool(true) }
        if let creator = context.userID, creator == Principal.operatorCLI.subject {
            data["created_by"] = .string(creator)
        }
        return NewEvent(
            type: EventType.apiKeyCreated.rawValue,
            subject: "api_keys/\(key.id.lowercasedString)",
            time: time,
            data: .object(data),
            context: context
        )
    }

    /// `api_key.revoked`.
    public static func apiKeyRevoked(
        keyID: UUID, serviceAccountID: UUID, context: EventContext, at time: Timestamp
    ) -> NewEvent {
        NewEvent(
            type: EventType.apiKeyRevoked.rawValue,
            subject: "api_keys/\(keyID.lowercasedString)",
            time: time,
            data: .object([
                "key_id": .string(keyID.lowercasedString),
                "service_account_id": .string(serviceAccountID.lowercasedString),
            ]),
            context: context
        )
    }

    /// `user.created`.
    public static func userCreated(
        _ user: User, memberships: [Membership], context: EventContext, at time: Timestamp
    ) -> NewEvent {
        var data: [String: JSONValue] = [
            "user_id": .string(user.id.lowercasedString),
            "platform_admin": .bool(user.isPlatformAdmin),
            "tenant_ids": .array(memberships.map { .string($0.tenantID.description) }),
        ]
        if let creator = context.userID { data["created_by"] = .string(creator) }
        return NewEvent(
            type: EventType.userCreated.rawValue,
            subject: "users/\(user.id.lowercasedString)",
            time: time,
            data: .object(data),
            context: context
        )
    }

    /// An `agent.*` event.
    public static func agent(_ type: EventType, _ agent: Agent, context: EventContext, at time: Timestamp)
        -> NewEvent
    {
        NewEvent(
            type: type.rawValue,
            subject: "agents/\(agent.id.lowercasedString)",
            time: time,
            data: .object([
                "agent_id": .string(agent.id.lowercasedString),
                "template_id": .string(agent.id.lowercasedString),
                "type": .string(agent.type),
                "version": .int(agent.version),
                "is_active": .bool(agent.isActive),
            ]),
            context: context
        )
    }

    /// An `instance.*` event.
    public static func instance(_ type: EventType, _ instance: Instance, context: EventContext, at time: Timestamp)
        -> NewEvent
    {
        NewEvent(
            type: type.rawValue,
            subject: "instances/\(instance.id.lowercasedString)",
            time: time,
            data: .object([
                "instance_id": .string(instance.id.lowercasedString),
                "agent_id": .string(instance.agentID.lowercasedString),
                "template_id": .string(instance.agentID.lowercasedString),
                "user_id": .string(instance.ownerUserID),
                "name": .string(instance.name),
                "status": .string(instance.status.rawValue),
                "status_reason": instance.statusReason.map(JSONValue.string) ?? .null,
                "version": .int(instance.version),
            ]),
            context: context
        )
    }

    /// `knowledge_base.created`, with the instance that owns it.
    public static func knowledgeBaseCreated(_ instance: Instance, context: EventContext, at time: Timestamp)
        -> NewEvent
    {
        NewEvent(
            type: EventType.knowledgeBaseCreated.rawValue,
            subject: "instances/\(instance.id.lowercasedString)/knowledge-base",
            time: time,
            data: .object([
                "instance_id": .string(instance.id.lowercasedString),
                "agent_id": .string(instance.agentID.lowercasedString),
                "template_id": .string(instance.agentID.lowercasedString),
                "user_id": .string(instance.ownerUserID),
            ]),
            context: context
        )
    }

    /// A `knowledge_base.entry.*` event.
    public static func entry(
        _ type: EventType, _ entry: KnowledgeBaseEntry, of instance: Instance, context: EventContext,
        at time: Timestamp
    ) -> NewEvent {
        var data: [String: JSONValue] = [
            "entry_id": .string(entry.id.lowercasedString),
            "instance_id": .string(instance.id.lowercasedString),
            "agent_id": .string(instance.agentID.lowercasedString),
            "template_id": .string(instance.agentID.lowercasedString),
            "user_id": .string(context.userID ?? instance.ownerUserID),
            "status": .string(entry.status.rawValue),
            "data_type": .string(entry.dataType.rawValue),
            "version": .int(entry.version),
        ]
        if let reason = entry.failureReason { data["failure_reason"] = .string(reason) }
        return NewEvent(
            type: type.rawValue,
            subject: "instances/\(instance.id.lowercasedString)/knowledge-base/entries/\(entry.id.lowercasedString)",
            time: time,
            data: .object(data),
            context: context
        )
    }

    /// `updated`, plus `status_changed` with `from`/`to` when the status moved.
    public static func change(
        updated: NewEvent,
        statusChanged: @autoclosure () -> NewEvent,
        from: String,
        to: String
    ) -> [NewEvent] {
        guard from != to else { return [updated] }
        var changed = statusChanged()
        if case .object(var data) = changed.data {
            data["from"] = .string(from)
            data["to"] = .string(to)
            changed.data = .object(data)
        }
        return [updated, changed]
    }

    /// A `run.*` event: the run's state after the change (`error` for failed and dead runs).
    public static func run(_ type: EventType, _ run: Run, at time: Timestamp, context: EventContext = EventContext())
        -> NewEvent
    {
        var data: [String: JSONValue] = [
            "run_id": .string(run.id.lowercasedString),
            "kind": .string(run.request.kind),
            "status": .string(run.status.rawValue),
            "attempt": .int(Int64(run.attempt)),
            "max_attempts": .int(Int64(run.request.maxAttempts)),
        ]
        if let instance = run.request.instanceID { data["instance_id"] = .string(instance.lowercasedString) }
        if let task = run.request.taskID { data["task_id"] = .string(task.lowercasedString) }
        if let error = run.lastError, run.status == .failed || run.status == .dead { data["error"] = .string(error) }
        if run.status == .failed || run.status == .queued { data["run_at"] = .string(run.request.runAt.rfc3339) }
        return NewEvent(
            type: type.rawValue, subject: "runs/\(run.id.lowercasedString)", time: time, data: .object(data),
            context: context)
    }

    /// A `run.output` event: a piece of an instance run's streamed output (`index` counts from 0 within
    /// the run; `delta` is text as the runtime produced it, coalesced).
    public static func runOutput(
        run: UUID, instance: UUID, index: Int, delta: String, step: String?, at time: Timestamp
    )
        -> NewEvent
    {
        var data: [String: JSONValue] = [
            "run_id": .string(run.lowercasedString), "instance_id": .string(instance.lowercasedString),
            "index": .int(Int64(index)), "delta": .string(delta),
        ]
        if let step { data["step_id"] = .string(step) }
        return NewEvent(
            type: EventType.runOutput.rawValue, subject: "runs/\(run.lowercasedString)", time: time,
            data: .object(data))
    }
}

extension Events {
    /// `instance.activated`: the instance is registered behind its gateway route.
    public static func instanceActivated(_ activation: InstanceActivation, context: EventContext, at time: Timestamp)
        -> NewEvent
    {
        NewEvent(
            type: EventType.instanceActivated.rawValue,
            subject: "instances/\(activation.instanceID.lowercasedString)",
            time: time,
            data: .object([
                "instance_id": .string(activation.instanceID.lowercasedString),
                "route": .string(activation.route),
                "activated_at": .string((activation.activatedAt ?? time).rfc3339),
                "activated_by": activation.activatedBy.map(JSONValue.string) ?? .null,
            ]),
            context: context
        )
    }

    /// `instance.deactivated`: the route is gone; `reason` is `deactivated` or `deleted`.
    public static func instanceDeactivated(
        _ activation: InstanceActivation, reason: String, context: EventContext, at time: Timestamp
    ) -> NewEvent {
        NewEvent(
            type: EventType.instanceDeactivated.rawValue,
            subject: "instances/\(activation.instanceID.lowercasedString)",
            time: time,
            data: .object([
                "instance_id": .string(activation.instanceID.lowercasedString),
                "route": .string(activation.route),
                "deactivated_at": .string((activation.deactivatedAt ?? time).rfc3339),
                "reason": .string(reason),
            ]),
            context: context
        )
    }
}
