import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import ServiceLifecycle

/// Turns events into webhook deliveries: for each tenant with an enabled webhook, reads its log after the
/// stored cursor (`webhooks:<tenant>`) and, for each event × matching enabled webhook, stores a delivery (one
/// per webhook and event, never doubled) and its `webhook.deliver` run, in ONE transaction with the cursor's
/// advance: a crash neither loses nor doubles one. One node dispatches at a time, the holder of the
/// `webhooks` lease; it reads when the store's event bell rings, and at least every `pollInterval`.
public final class WebhookDispatcher: Service, Sendable {
    let useCases: UseCases
    let leaseTTL: Duration
    let leaseCheck: Duration
    let batch: Int
    let logger: Logger
    /// This node's name in the lease.
    public let nodeID: String

    /// The lease's name.
    public static let leaseName = "webhooks"

    /// Creates the dispatcher (a 10 s lease renewed every 2 s, pages of 500 events).
    public init(
        useCases: UseCases, leaseTTL: Duration = .seconds(10), leaseCheck: Duration = .seconds(2), batch: Int = 500,
        nodeID: String = "webhooks-\(UUIDv7.make().lowercasedString)", logger: Logger
    ) {
        self.useCases = useCases
        self.leaseTTL = leaseTTL
        self.leaseCheck = leaseCheck
        self.batch = batch
        self.nodeID = nodeID
        self.logger = logger
    }

    var store: any Store { useCases.store }

    public func run() async throws {
        let listener = store.eventBell.listen()
        let holding = await cancelWhenGracefulShutdown { await self.loop(listener) }
        store.eventBell.stop(listening: listener)
        if holding { try? await store.tasks.releaseLease(Self.leaseName, holder: nodeID) }
    }

    /// Rounds until cancelled; answers whether the lease was held at the end.
    func loop(_ listener: EventBell.Listener) async -> Bool {
        var holding = false
        var leaseCheckedAt = ContinuousClock.now - leaseCheck
        while !Task.isCancelled {
            var more = false
            do {
                if ContinuousClock.now - leaseCheckedAt >= leaseCheck {
                    let now = useCases.clock.now()
                    let held = try await store.tasks.holdLease(
                        Self.leaseName, holder: nodeID, until: now.adding(seconds: leaseTTL.components.seconds),
                        now: now)
                    if held != holding {
                        logger.notice(
                            held ? "webhook dispatch lease taken" : "webhook dispatch lease lost",
                            metadata: ["node": .string(nodeID)])
                    }
                    holding = held
                    leaseCheckedAt = ContinuousClock.now
                }
                if holding { more = try await dispatchOnce() }
            } catch {
                logger.warning("the webhook dispatcher's round failed", metadata: ["error": "\(error)"])
            }
            if !more { await waitForEvents(listener, holding: holding) }
        }
        return holding
    }

    /// The one place the dispatcher waits: for the event bell, at most the policy's poll interval (the lease
    /// check's interval on a node without the lease).
    func waitForEvents(_ listener: EventBell.Listener, holding: Bool) async {
        _ = await listener.next(timeout: holding ? useCases.webhookSettings.policy.pollInterval : leaseCheck)
    }

    /// One round over every tenant with an enabled webhook; answers whether a tenant had more than a page.
    public func dispatchOnce() async throws -> Bool {
        var more = false
        for tenant in try await store.webhooks.tenantsWithEnabledWebhooks() {
            more = try await dispatch(tenant) || more
        }
        return more
    }

    func dispatch(_ tenant: TenantID) async throws -> Bool {
        let name = UseCases.webhookCursorName(tenant)
        guard let text = try await store.tasks.cursor(name), let after = EventPosition(text) else {
            // Creating the tenant's first webhook sets the cursor; this is the fallback.
            try await store.tasks.setCursor(
                name, to: try await store.events.latestPosition(tenant: tenant).description)
            return false
        }
        let events = try await store.events.list(tenant: tenant, query: EventQuery(after: after, limit: batch))
        guard let last = events.last else { return false }
        let webhooks = try await store.webhooks.enabled(tenant: tenant)
        let deliveries = WebhookDecisions.deliveries(
            for: events, to: webhooks, policy: useCases.webhookSettings.policy, now: useCases.clock.now())
        _ = try await store.webhooks.dispatch(deliveries, cursor: name, position: last.position.description)
        return events.count == batch
    }
}
