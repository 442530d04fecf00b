import Foundation

/// One health probe of an active instance (docs/agent-runtime.md#health-monitoring): its `http` service's
/// health URL, or the readiness of its model endpoint and MCP servers.
public struct InstanceHealthCheck: Sendable, Hashable {
    /// UUIDv7: checks sort by it as by time.
    public var id: UUID
    /// The instance's tenant.
    public var tenantID: TenantID
    /// The instance probed.
    public var instanceID: UUID
    /// When the probe finished.
    public var checkedAt: Timestamp
    /// Whether everything asked answered.
    public var healthy: Bool
    /// How long the probe took.
    public var latencyMs: Int
    /// What was asked and what it answered (at most `maximumDetailLength` Unicode scalars).
    public var detail: String

    /// The longest `detail`, in Unicode scalars: longer ones are cut.
    public static let maximumDetailLength = 500

    /// Creates a check; `detail` is cut to `maximumDetailLength` Unicode scalars.
    public init(
        id: UUID, tenantID: TenantID, instanceID: UUID, checkedAt: Timestamp, healthy: Bool, latencyMs: Int,
        detail: String
    ) {
        self.id = id
        self.tenantID = tenantID
        self.instanceID = instanceID
        self.checkedAt = checkedAt
        self.healthy = healthy
        self.latencyMs = max(latencyMs, 0)
        // Counted in Unicode scalars, as JSON Schema's maxLength counts.
        let scalars = detail.unicodeScalars
        self.detail =
            scalars.count > Self.maximumDetailLength
            ? String(String.UnicodeScalarView(scalars.prefix(Self.maximumDetailLength))) : detail
    }
}

/// What a new check means for its instance.
public struct HealthVerdict: Sendable, Hashable {
    /// Unhealthy checks in a row, newest first, counting the new one.
    public var consecutiveFailures: Int
    /// Whether the health changed (`instance.health_changed`): the first check only when unhealthy.
    public var healthChanged: Bool
    /// The status change the check causes, if any: `failed` (too many failures) or `pending` (recovery).
    public var transition: InstanceStatus?
    /// The reason a `failed` transition records.
    public var statusReason: String?
}

/// The decisions of health monitoring: pure, tested with tables, applied by the probe's worker.
public enum InstanceHealthDecisions {
    /// How a status reason written by health monitoring starts; only such a failure recovers by itself.
    public static let reasonPrefix = "health:"

    /// Unhealthy checks in a row at the head of `checks` (newest first).
    public static func consecutiveFailures(_ checks: [InstanceHealthCheck]) -> Int {
        checks.prefix { !$0.healthy }.count
    }

    /// The verdict on `check`, given the checks before it (newest first), the instance's status and reason,
    /// and the failure threshold: `running` with `threshold` or more failures in a row goes `failed`; `failed`
    /// by health goes back to `pending` (provisioning then runs it) on a healthy check.
    public static func assess(
        _ check: InstanceHealthCheck, previous: [InstanceHealthCheck], status: InstanceStatus, statusReason: String?,
        threshold: Int
    ) -> HealthVerdict {
        let failures = consecutiveFailures([check] + previous)
        let changed = previous.first.map { $0.healthy != check.healthy } ?? !check.healthy
        var verdict = HealthVerdict(
            consecutiveFailures: failures, healthChanged: changed, transition: nil, statusReason: nil)
        switch status {
        case .running where !check.healthy && failures >= max(threshold, 1):
            verdict.transition = .failed
            verdict.statusReason = "\(reasonPrefix) \(failures) consecutive failed probes: \(check.detail)"
        case .failed where check.healthy && statusReason?.hasPrefix(reasonPrefix) == true:
            verdict.transition = .pending
        default:
            break
        }
        return verdict
    }

    /// The events a check records with itself: `instance.health_changed` when the health changed.
    public static func events(
        _ verdict: HealthVerdict, check: InstanceHealthCheck, context: EventContext, now: Timestamp
    ) -> [NewEvent] {
        guard verdict.healthChanged else { return [] }
        return [
            Events.instanceHealthChanged(
                check, consecutiveFailures: verdict.consecutiveFailures, context: context, at: now)
        ]
    }

    /// The instance's status change of `verdict` (nil: none), with `instance.updated` and
    /// `instance.status_changed`; throws when the instance's status no longer allows it.
    public static func change(
        _ verdict: HealthVerdict, current: Instance, context: EventContext, now: Timestamp
    ) throws(AgentplaneError) -> Change<Instance>? {
        guard let target = verdict.transition else { return nil }
        var next = current
        next.status = try current.status.transition(to: target)
        next.statusReason = target == .failed ? verdict.statusReason : nil
        return InstanceDecisions.change(next, current: current, expectedVersion: nil, context: context, now: now)
    }
}

extension Events {
    /// `instance.health_changed`: a probe found the instance's health changed (or unhealthy at its first check).
    public static func instanceHealthChanged(
        _ check: InstanceHealthCheck, consecutiveFailures: Int, context: EventContext, at time: Timestamp
    ) -> NewEvent {
        NewEvent(
            type: EventType.instanceHealthChanged.rawValue,
            subject: "instances/\(check.instanceID.lowercasedString)",
            time: time,
            data: .object([
                "instance_id": .string(check.instanceID.lowercasedString),
                "healthy": .bool(check.healthy),
                "consecutive_failures": .int(Int64(consecutiveFailures)),
                "detail": .string(check.detail),
            ]),
            context: context
        )
    }
}

/// How active instances are watched (`--health-interval-seconds`, `--health-failure-threshold`).
public struct InstanceHealthPolicy: Sendable, Hashable {
    /// How often every active instance is probed; zero turns monitoring off.
    public var interval: Duration
    /// Failed probes in a row that move a `running` instance to `failed` (1 to `keep`).
    public var failureThreshold: Int
    /// How many checks are kept per instance (the newest).
    public var keep: Int

    /// The defaults: every 30 s, failed after 3 failures in a row, the last 20 checks kept.
    public init(interval: Duration = .seconds(30), failureThreshold: Int = 3, keep: Int = 20) {
        self.interval = max(interval, .zero)
        self.keep = max(keep, 1)
        self.failureThreshold = min(max(failureThreshold, 1), self.keep)
    }

    /// Whether instances are probed at all.
    public var enabled: Bool { interval > .zero }

    /// The interval in microseconds (at least 1).
    public var intervalMicroseconds: Int64 {
        let parts = interval.components
        return max(parts.seconds * 1_000_000 + parts.attoseconds / 1_000_000_000_000, 1)
    }

    /// The start of the interval `now` falls in: the slot a sweep and its probes are deduplicated by.
    public func slot(of now: Timestamp) -> Timestamp {
        let period = intervalMicroseconds
        return Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch / period * period)
    }
}

extension PlatformRuns {
    /// Enqueues one `instance.health` probe per active instance, once per interval fleet-wide.
    public static let healthSweep = "instance.health_sweep"
    /// Probes one active instance and records the check.
    public static let healthProbe = "instance.health"

    /// The sweep of the interval starting at `slot`: every node with a worker enqueues it, its dedupe key keeps
    /// one per interval and its concurrency key lets one run at a time.
    public static func healthSweepRun(slot: Timestamp, policy: InstanceHealthPolicy, at now: Timestamp) -> NewRun {
        NewRun(
            id: UUIDv7.make(at: now), kind: healthSweep, tenantID: .platform,
            arguments: ["slot": .string(slot.rfc3339)], priority: 6, runAt: now, maxAttempts: 2,
            dedupeKey: "\(healthSweep)@\(slot.microsecondsSinceEpoch)",
            dedupeWindowSeconds: dedupeWindow(policy), concurrencyKey: healthSweep, concurrencyLimit: 1,
            createdAt: now)
    }

    /// The probe of `instance` in the interval starting at `slot`: one per instance and interval, one at a time
    /// per instance, in the instance's tenant (its runs list shows it).
    public static func healthProbeRun(
        _ instance: Instance, slot: Timestamp, policy: InstanceHealthPolicy, at now: Timestamp
    ) -> NewRun {
        let id = instance.id.lowercasedString
        return NewRun(
            id: UUIDv7.make(at: now), kind: healthProbe, tenantID: instance.tenantID,
            arguments: ["instance_id": .string(id), "slot": .string(slot.rfc3339)], priority: 6, runAt: now,
            maxAttempts: 2, backoff: Backoff(strategy: .fixed, baseSeconds: 1, capSeconds: 1),
            dedupeKey: "\(healthProbe):\(id)@\(slot.microsecondsSinceEpoch)",
            dedupeWindowSeconds: dedupeWindow(policy), concurrencyKey: "\(healthProbe):\(id)", concurrencyLimit: 1,
            instanceID: instance.id, createdAt: now)
    }

    private static func dedupeWindow(_ policy: InstanceHealthPolicy) -> Int {
        Int(max(policy.intervalMicroseconds * 2 / 1_000_000, 1))
    }
}
