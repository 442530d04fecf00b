import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import AgentplaneTracing
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// The handlers of the platform's own run kinds (`PlatformRuns`), registered by the composition root
/// on every node that runs a worker. Each goes through the use cases, so its steps commit with their
/// events and audit rows like any other change, and each acts only if the state still asks for it
/// (delivery is at least once; the run id is the idempotency key).
public struct PlatformWork: Sendable {
    let useCases: UseCases
    let outbound: OutboundPolicy
    let retention: RunRetention
    let probeTimeout: Duration
    let logger: Logger

    /// Creates the handlers.
    public init(
        useCases: UseCases, outbound: OutboundPolicy = OutboundPolicy(), retention: RunRetention = RunRetention(),
        probeTimeout: Duration = .seconds(5), logger: Logger
    ) {
        self.useCases = useCases
        self.outbound = outbound
        self.retention = retention
        self.probeTimeout = probeTimeout
        self.logger = logger
    }

    /// The handlers by run kind.
    public var handlers: [String: RunHandler] {
        [
            PlatformRuns.provisionInstance: { try await self.provision($0.run) },
            PlatformRuns.teardownInstance: { try await self.teardown($0.run) },
            PlatformRuns.processEntry: { try await self.process($0.run) },
            PlatformRuns.maintenance: { _ in try await self.maintain() },
        ]
    }

    /// What happens when a run of a platform kind ends `dead`.
    public var deadHandlers: [String: DeadRunHandler] {
        [
            PlatformRuns.provisionInstance: { run, error in
                try await useCases.abandonProvisioning(
                    try PlatformRuns.uuid("instance_id", of: run), tenant: run.request.tenantID,
                    reason: "provisioning gave up after \(run.roundAttempts) attempts: \(error)",
                    by: .worker("provisionInstance", run: run.id))
            },
            PlatformRuns.processEntry: { run, error in
                try await useCases.abandonEntry(
                    try PlatformRuns.uuid("entry_id", of: run), instance: try PlatformRuns.uuid("instance_id", of: run),
                    tenant: run.request.tenantID,
                    reason: "processing gave up after \(run.roundAttempts) attempts: \(error)",
                    by: .worker("processKnowledgeBaseEntry", run: run.id))
            },
        ]
    }

    // MARK: Instances

    /// `pending → provisioning → running | failed`: checks the configuration against the agent and,
    /// when it names an `endpoint`, that the endpoint answers. An endpoint that does not answer is
    /// retried with the run's backoff; the last attempt records the failure on the instance.
    func provision(_ run: Run) async throws -> JSONValue {
        let caller = Caller.worker("provisionInstance", run: run.id)
        let id = try arguments { try PlatformRuns.uuid("instance_id", of: run) }
        guard let instance = try await useCases.beginProvisioning(id, tenant: run.request.tenantID, by: caller)
        else { return ["instance_id": .string(id.lowercasedString), "skipped": "nothing to provision"] }
        let agent = try await useCases.store.agents.find(id: instance.agentID, includeDeleted: true)
        let outcome: ProvisioningOutcome
        let problems = InstanceDecisions.configurationProblems(instance, agent: agent)
        if !problems.isEmpty {
            outcome = .problem("configuration: " + problems.joined(separator: "; "), retryable: false)
        } else if let endpoint = InstanceDecisions.endpointURL(instance.config["endpoint"]) {
            outcome = await probe(endpoint)
        } else {
            outcome = .ready("configuration checked against the agent; no endpoint to probe")
        }
        if case .problem(let reason, true) = outcome, run.hasAttemptsLeft {
            throw ProvisioningRetry(description: reason)  // stays provisioning; the run's backoff applies
        }
        let settled = try await useCases.finishProvisioning(instance, outcome, by: caller)
        return [
            "instance_id": .string(id.lowercasedString), "status": .string(settled.status.rawValue),
            "status_reason": settled.statusReason.map(JSONValue.string) ?? .null,
        ]
    }

    /// After a delete: cancels the instance's runs that have not started (its entries' processing, a
    /// provisioning still queued). Nothing else is held by an instance yet (no gateway route, no
    /// process: the agent-runtime issue adds them here).
    func teardown(_ run: Run) async throws -> JSONValue {
        let id = try arguments { try PlatformRuns.uuid("instance_id", of: run) }
        let cancelled = try await useCases.cancelRuns(
            ofDeletedInstance: id, tenant: run.request.tenantID, by: .worker("teardownInstance", run: run.id))
        return [
            "instance_id": .string(id.lowercasedString),
            "cancelled_runs": .array(cancelled.map { .string($0.lowercasedString) }),
        ]
    }

    /// Asks the endpoint once (GET, no redirects followed): any answer below 500 means it serves.
    func probe(_ url: URL) async -> ProvisioningOutcome {
        do {
            try await outbound.check(url)
        } catch {
            return .problem("config.endpoint: \(error.description)", retryable: false)
        }
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(3), read: .seconds(5))
        configuration.tracing.tracer = nil  // traced below, as the other outbound calls are
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        defer { client.shutdown { _ in } }
        let started = ContinuousClock.now
        do {
            var request = HTTPClientRequest(url: url.absoluteString)
            request.method = .GET
            request.headers.add(name: "User-Agent", value: "agentplane-provisioning")
            let response = try await OutboundTracing.withClientSpan("instance.probe", request) {
                try await client.execute($0, timeout: .seconds(probeTimeout.components.seconds))
            }
            _ = try? await response.body.collect(upTo: 64 * 1024)
            let millis =
                (ContinuousClock.now - started).components.attoseconds / 1_000_000_000_000_000
                + (ContinuousClock.now - started).components.seconds * 1000
            if response.status.code >= 500 {
                return .problem(
                    "config.endpoint \(url.absoluteString) answered HTTP \(response.status.code)", retryable: true)
            }
            return .ready(
                "configuration checked against the agent; endpoint \(url.absoluteString) answered HTTP "
                    + "\(response.status.code) in \(millis) ms")
        } catch {
            return .problem("config.endpoint \(url.absoluteString) did not answer: \(error)", retryable: true)
        }
    }

    // MARK: Knowledge base

    /// `queued → processing → ready | failed`.
    func process(_ run: Run) async throws -> JSONValue {
        let (entryID, instanceID) = try arguments {
            (try PlatformRuns.uuid("entry_id", of: run), try PlatformRuns.uuid("instance_id", of: run))
        }
        let entry = try await useCases.processEntry(
            entryID, instance: instanceID, tenant: run.request.tenantID,
            by: .worker("processKnowledgeBaseEntry", run: run.id))
        guard let entry else { return ["entry_id": .string(entryID.lowercasedString), "skipped": "the entry is gone"] }
        return [
            "entry_id": .string(entryID.lowercasedString), "status": .string(entry.status.rawValue),
            "failure_reason": entry.failureReason.map(JSONValue.string) ?? .null,
        ]
    }

    // MARK: Maintenance

    /// Expired idempotency keys and ended runs past their retention, in bounded batches.
    func maintain() async throws -> JSONValue {
        let now = useCases.clock.now()
        let keys = try await IdempotencyKeySweeper(store: useCases.store, logger: logger, clock: useCases.clock)
            .runOnce(now: now)
        var runs = 0
        while true {
            let purged = try await useCases.store.runs.purge(retention, now: now, limit: 1000)
            runs += purged
            if purged < 1000 || Task.isCancelled { break }
        }
        var events = 0
        if retention.eventSeconds > 0 {
            let cutoff = Timestamp(
                microsecondsSinceEpoch: now.microsecondsSinceEpoch - retention.eventSeconds * 1_000_000)
            while true {
                let purged = try await useCases.store.events.purge(recordedBefore: cutoff, limit: 1000)
                events += purged
                if purged < 1000 || Task.isCancelled { break }
            }
        }
        return [
            "idempotency_keys_purged": .int(Int64(keys)), "runs_purged": .int(Int64(runs)),
            "events_purged": .int(Int64(events)),
        ]
    }

    /// Bad arguments cannot be fixed by a retry.
    private func arguments<T>(_ read: () throws -> T) throws -> T {
        do { return try read() } catch { throw PermanentRunFailure("\(error)") }
    }
}

/// Provisioning found a problem that a later attempt may not have (an endpoint that did not answer).
struct ProvisioningRetry: Error, CustomStringConvertible {
    var description: String
}
