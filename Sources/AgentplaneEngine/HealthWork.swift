import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import Metrics

/// The handlers of health monitoring (docs/agent-runtime.md#health-monitoring): the sweep that enqueues one probe
/// per active instance, and the probe that asks the instance's dependencies, records the check and applies what it
/// means through the use cases (so a status change commits with its events and audit row).
public struct HealthWork: Sendable {
    let useCases: UseCases
    let prober: InstanceHealthProber
    let logger: Logger

    /// Active instances read per page by the sweep.
    static let pageSize = 500

    /// Creates the handlers; the policy is the use cases' (`healthPolicy`).
    public init(useCases: UseCases, outbound: OutboundPolicy, probeTimeout: Duration = .seconds(5), logger: Logger) {
        self.useCases = useCases
        self.prober = InstanceHealthProber(
            useCases: useCases, outbound: outbound, timeout: probeTimeout, logger: logger)
        self.logger = logger
    }

    /// The handlers by run kind.
    public var handlers: [String: RunHandler] {
        [
            PlatformRuns.healthSweep: { try await self.sweep($0.run) },
            PlatformRuns.healthProbe: { try await self.probe($0.run) },
        ]
    }

    /// Pages through the active instances of every tenant and enqueues the probe of each that can be probed
    /// (`running`, or `failed` to see it recover).
    func sweep(_ run: Run) async throws -> JSONValue {
        let policy = useCases.healthPolicy
        let slot = Self.slot(of: run) ?? policy.slot(of: useCases.clock.now())
        // A backlogged worker: its probes would all be late; the newer sweep queued behind it enqueues fresh ones.
        if isLate(slot) { return ["slot": .string(slot.rfc3339), "skipped": "late: a newer sweep follows"] }
        var after: UUID?
        var enqueued = 0
        while !Task.isCancelled {
            let page = try await useCases.store.activations.listActive(after: after, limit: Self.pageSize)
            let now = useCases.clock.now()
            let probes = page.map(\.instance).filter(Self.probed).map {
                PlatformRuns.healthProbeRun($0, slot: slot, policy: policy, at: now)
            }
            if !probes.isEmpty { enqueued += try await useCases.store.runs.enqueue(probes).count }
            guard page.count == Self.pageSize, let last = page.last else { break }
            after = last.instance.id
        }
        return ["slot": .string(slot.rfc3339), "probes_enqueued": .int(Int64(enqueued))]
    }

    /// Probes one instance unless it is no longer active, gone, not in a probed state, or the probe is late (a
    /// newer one follows); records the check and applies its verdict.
    func probe(_ run: Run) async throws -> JSONValue {
        let id: UUID
        do { id = try PlatformRuns.uuid("instance_id", of: run) } catch { throw PermanentRunFailure("\(error)") }
        let tenant = run.request.tenantID
        func skipped(_ why: String) -> JSONValue {
            ["instance_id": .string(id.lowercasedString), "skipped": .string(why)]
        }
        if let slot = Self.slot(of: run), isLate(slot) { return skipped("late: a newer probe follows") }
        guard try await useCases.store.activations.find(tenant: tenant, instance: id)?.active == true else {
            return skipped("not active")
        }
        guard let instance = try await useCases.store.instances.find(tenant: tenant, id: id) else {
            return skipped("deleted")
        }
        guard Self.probed(instance) else { return skipped("status \(instance.status.rawValue)") }
        let started = ContinuousClock.now
        let (healthy, detail) = await prober.probe(instance)
        let elapsed = (ContinuousClock.now - started).components
        let now = useCases.clock.now()
        let check = InstanceHealthCheck(
            id: UUIDv7.make(at: now), tenantID: tenant, instanceID: id, checkedAt: now, healthy: healthy,
            latencyMs: Int(elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000), detail: detail)
        Counter(
            label: "agentplane_instance_health_checks_total",
            dimensions: [("tenant", tenant.description), ("outcome", healthy ? "healthy" : "unhealthy")]
        ).increment()
        let verdict = try await useCases.recordHealth(check, by: .worker("probeInstanceHealth", run: run.id))
        return [
            "instance_id": .string(id.lowercasedString), "healthy": .bool(healthy), "detail": .string(check.detail),
            "latency_ms": .int(Int64(check.latencyMs)),
            "consecutive_failures": verdict.map { .int(Int64($0.consecutiveFailures)) } ?? .null,
            "transition": verdict?.transition.map { .string($0.rawValue) } ?? .null,
        ]
    }

    /// Whether work of `slot` waited past three intervals (and ten seconds): it makes way for the newer work
    /// queued behind it.
    func isLate(_ slot: Timestamp) -> Bool {
        useCases.clock.now().microsecondsSinceEpoch - slot.microsecondsSinceEpoch
            > max(3 * useCases.healthPolicy.intervalMicroseconds, 10_000_000)
    }

    /// Probed states: `running`, and `failed` (recovery). `pending`, `provisioning` and `stopped` are not.
    static func probed(_ instance: Instance) -> Bool { instance.status == .running || instance.status == .failed }

    static func slot(of run: Run) -> Timestamp? {
        run.request.arguments["slot"]?.stringValue.flatMap(Timestamp.init(rfc3339:))
    }
}
