import Foundation

/// The platform's own work on the job engine (DESIGN §5): the run kinds, the runs a change enqueues,
/// and the decisions of the workers that perform them.
public enum PlatformRuns {
    /// Moves a `pending` instance through `provisioning` to `running` or `failed`.
    public static let provisionInstance = "instance.provision"
    /// Releases what a deleted instance held.
    public static let teardownInstance = "instance.teardown"
    /// Moves a `queued` knowledge-base entry through `processing` to `ready` or `failed`.
    public static let processEntry = "kb.process"
    /// The platform's housekeeping (expired idempotency keys, run retention), one node at a time.
    public static let maintenance = "maintenance.sweep"

    /// The provisioning run a created or started instance gets, in the same transaction. One
    /// provisioning or teardown of an instance runs at a time (its concurrency key).
    public static func provision(_ instance: Instance, at now: Timestamp) -> NewRun {
        NewRun(
            id: UUIDv7.make(at: now), kind: provisionInstance, tenantID: instance.tenantID,
            arguments: ["instance_id": .string(instance.id.lowercasedString)], priority: 3, runAt: now,
            maxAttempts: 5, backoff: Backoff(strategy: .exponentialJitter, baseSeconds: 1, capSeconds: 60),
            concurrencyKey: instanceKey(instance.id), concurrencyLimit: 1, instanceID: instance.id, createdAt: now)
    }

    /// The teardown run of a deleted instance.
    public static func teardown(_ instance: Instance, at now: Timestamp) -> NewRun {
        NewRun(
            id: UUIDv7.make(at: now), kind: teardownInstance, tenantID: instance.tenantID,
            arguments: [
                "instance_id": .string(instance.id.lowercasedString),
                "agent_id": .string(instance.agentID.lowercasedString),
            ],
            priority: 3, runAt: now, maxAttempts: 5, concurrencyKey: instanceKey(instance.id), concurrencyLimit: 1,
            instanceID: instance.id, createdAt: now)
    }

    /// The processing run of a queued entry.
    public static func process(_ entry: KnowledgeBaseEntry, at now: Timestamp) -> NewRun {
        NewRun(
            id: UUIDv7.make(at: now), kind: processEntry, tenantID: entry.tenantID,
            arguments: [
                "instance_id": .string(entry.instanceID.lowercasedString),
                "entry_id": .string(entry.id.lowercasedString),
            ],
            runAt: now, maxAttempts: 5, backoff: Backoff(strategy: .exponentialJitter, baseSeconds: 1, capSeconds: 60),
            instanceID: entry.instanceID, createdAt: now)
    }

    /// The maintenance run of the period starting at `slot`: every node enqueues it, the dedupe key
    /// keeps one per period, and the concurrency key lets one run at a time, fleet-wide.
    public static func maintenanceRun(slot: Timestamp, periodSeconds: Int, at now: Timestamp) -> NewRun {
        NewRun(
            id: UUIDv7.make(at: now), kind: maintenance, tenantID: .platform,
            arguments: ["slot": .string(slot.rfc3339)], priority: 7, runAt: now, maxAttempts: 3,
            dedupeKey: "\(maintenance)@\(slot.microsecondsSinceEpoch)", dedupeWindowSeconds: max(periodSeconds * 2, 1),
            concurrencyKey: maintenance, concurrencyLimit: 1, createdAt: now)
    }

    static func instanceKey(_ id: UUID) -> String { "instance:\(id.lowercasedString)" }

    /// A UUID argument of a platform run, or the permanent failure naming it.
    public static func uuid(_ name: String, of run: Run) throws(AgentplaneError) -> UUID {
        guard case .string(let text)? = run.request.arguments[name], let id = UUID(uuidString: text) else {
            throw AgentplaneError(.validationFailed, "The run's argument \(name) is not a UUID.")
        }
        return id
    }
}

/// What provisioning found.
public enum ProvisioningOutcome: Sendable, Hashable {
    /// The instance can serve; the text says what was checked.
    case ready(String)
    /// It cannot; the text says why. `retryable`: a later attempt may succeed (an endpoint that did
    /// not answer), else it fails at once (a configuration that contradicts the agent).
    case problem(String, retryable: Bool)
}

extension InstanceDecisions {
    /// The checks of provisioning that need no network: the agent still exists, every key the agent
    /// has a default for keeps the default's JSON type, and an `endpoint` is an absolute http(s) URL.
    /// Answers the problems found (empty: none).
    public static func configurationProblems(_ instance: Instance, agent: Agent?) -> [String] {
        guard let agent, agent.deletedAt == nil else {
            return ["the agent \(instance.agentID.lowercasedString) was deleted"]
        }
        var problems: [String] = []
        for key in agent.defaultConfig.keys.sorted() {
            guard let value = instance.config[key], let expected = agent.defaultConfig[key] else { continue }
            if value != .null, expected != .null, kind(of: value) != kind(of: expected) {
                problems.append("config.\(key) is \(kind(of: value)) but the agent's default is \(kind(of: expected))")
            }
        }
        if let endpoint = instance.config["endpoint"], endpointURL(endpoint) == nil {
            problems.append("config.endpoint must be an absolute http or https URL")
        }
        return problems
    }

    /// The endpoint an instance's agent service answers on, when its configuration names one.
    public static func endpointURL(_ value: JSONValue?) -> URL? {
        guard case .string(let text)? = value, let url = URL(string: text),
            let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty
        else { return nil }
        return url
    }

    /// `pending → provisioning`, the reason cleared.
    public static func beginProvisioning(_ current: Instance, context: EventContext, now: Timestamp)
        throws(AgentplaneError) -> Change<Instance>
    {
        var next = current
        next.status = try current.status.transition(to: .provisioning)
        next.statusReason = nil
        return change(next, current: current, expectedVersion: nil, context: context, now: now)
    }

    /// `provisioning → running | failed`, with what provisioning found as the reason.
    public static func finishProvisioning(
        _ current: Instance, _ outcome: ProvisioningOutcome, context: EventContext, now: Timestamp
    ) throws(AgentplaneError) -> Change<Instance> {
        var next = current
        switch outcome {
        case .ready(let summary):
            next.status = try current.status.transition(to: .running)
            next.statusReason = summary
        case .problem(let reason, _):
            next.status = try current.status.transition(to: .failed)
            next.statusReason = reason
        }
        return change(next, current: current, expectedVersion: nil, context: context, now: now)
    }

    private static func kind(of value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
