import AgentplaneCore
import AgentplaneStore
import Logging
import ServiceLifecycle
import Synchronization

/// Settings of the event hub.
public struct EventHubSettings: Sendable {
    /// Events one subscriber may have waiting; a subscriber further behind is cut off with its resume point.
    public var bufferLimit = 1_000
    /// Recent events each followed tenant keeps in memory, from which joining subscribers start.
    public var recentEvents = 1_024
    /// Largest page read from the log at a time.
    public var page = 500
    /// How often followed logs are read without a ring (PostgreSQL events of transactions that committed out of
    /// order become visible a moment later; a lost notification costs this much).
    public var poll: Duration = .milliseconds(500)

    /// The defaults.
    public init() {}
}

/// Pushes each tenant's new events to the subscribers of this node (SSE streams, WebSocket subscriptions, long
/// polls): one reader per followed tenant, woken by the store's event bell, reads the log once and fans the events
/// out in memory, so a thousand subscribers cost one query per append, not a thousand. A subscriber never slows the
/// writers or the other subscribers: each has a bounded queue, and one whose queue is full is cut off with the
/// position to resume from. A subscriber starting from an older position reads the log on its own (at its own
/// pace) until it reaches the recent events the hub holds, then joins the live feed; it sees every matching event
/// once, in log order.
public final class EventHub: Service, Sendable {
    let store: any Store
    let settings: EventHubSettings
    let logger: Logger
    private let feeds = Mutex<[TenantID: Feed]>([:])
    private let shutDown = Mutex(false)
    private let changed = RunWakeup()

    /// Creates a hub over `store`'s log.
    public init(store: any Store, settings: EventHubSettings = EventHubSettings(), logger: Logger) {
        self.store = store
        self.settings = settings
        self.logger = logger
    }

    /// Follows the logs of the tenants that have subscribers until shut down; then ends every subscription with
    /// its resume point.
    public func run() async throws {
        let listener = store.eventBell.listen()
        await withGracefulShutdownHandler {
            var retry: Set<TenantID> = []
            var retryDelay = Duration.milliseconds(2)
            while !Task.isCancelled, !self.shutDown.withLock({ $0 }) {
                let heard = await listener.next(timeout: retry.isEmpty ? self.settings.poll : retryDelay)
                let followed = self.followedTenants()
                let due: Set<TenantID>
                switch heard {
                case .any: due = followed
                case .tenants(let tenants): due = tenants.intersection(followed).union(retry)
                case .nothing: due = retry.isEmpty ? followed : retry
                }
                var empty: Set<TenantID> = []
                for tenant in due where !(await self.refresh(tenant)) { empty.insert(tenant) }
                // A ring named a tenant whose new events are not visible yet (PostgreSQL serves a transaction's
                // events once every older transaction has ended): look again shortly, backing off to the poll.
                if case .tenants(let named) = heard {
                    retry = named.intersection(empty)
                    retryDelay = .milliseconds(2)
                } else {
                    retry = retry.intersection(empty)
                    retryDelay = min(retryDelay * 2, .milliseconds(256))
                }
            }
        } onGracefulShutdown: {
            self.shutDown.withLock { $0 = true }
            listener.interrupt()
        }
        store.eventBell.stop(listening: listener)
        shutDown.withLock { $0 = true }
        for feed in feeds.withLock({ Array($0.values) }) { feed.endAll(.shutdown) }
    }

    /// Subscribes to `tenant`'s events matching `filter` after `after` (nil: from now).
    public func subscribe(tenant: TenantID, filter: EventFilter, after: EventPosition?) async throws
        -> EventSubscription
    {
        if shutDown.withLock({ $0 }) {
            throw AgentplaneError(
                .shuttingDown, "This node is shutting down; connect again (to another node, or after the restart).")
        }
        let subscriber = Subscriber(filter: filter, limit: settings.bufferLimit)
        // Added under the hub's lock, so a feed is never dropped between being found and being joined.
        let feed = feeds.withLock { feeds in
            let feed = feeds[tenant] ?? Feed(tenant: tenant, limits: settings)
            feeds[tenant] = feed
            feed.add(subscriber)
            return feed
        }
        do {
            if !feed.isStarted {
                feed.start(at: try await store.events.latestPosition(tenant: tenant))
            }
        } catch {
            remove(subscriber, from: feed)
            throw error
        }
        let start = after ?? feed.tail
        HubMetrics.subscribers(tenant).increment()
        // Live at once when nothing much is to be caught up, so that events are queued from now on even
        // before the first read.
        let live = if case .joined = feed.join(subscriber, after: start, page: settings.page) { true } else { false }
        return EventSubscription(hub: self, feed: feed, subscriber: subscriber, after: start, live: live)
    }

    /// Waits up to `timeout` for an event of `tenant` after `after` that matches `filter`; answers whether one came.
    public func waitForEvent(tenant: TenantID, filter: EventFilter, after: EventPosition, timeout: Duration)
        async throws -> Bool
    {
        let subscription = try await subscribe(tenant: tenant, filter: filter, after: after)
        defer { subscription.cancel() }
        let deadline = ContinuousClock.now + timeout
        while true {
            let left = deadline - .now
            guard left > .zero else { return false }
            switch try await subscription.next(timeout: left) {
            case .event: return true
            case .end: return false
            case nil: continue
            }
        }
    }

    /// The number of subscriptions open on this node.
    public var subscriberCount: Int { feeds.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    func remove(_ subscriber: Subscriber, from feed: Feed) {
        let wasThere = feeds.withLock { feeds in
            let wasThere = feed.remove(subscriber)
            if feed.count == 0, feeds[feed.tenant] === feed { feeds[feed.tenant] = nil }
            return wasThere
        }
        if wasThere { HubMetrics.subscribers(feed.tenant).decrement() }
    }

    private func followedTenants() -> Set<TenantID> {
        feeds.withLock { Set($0.values.filter(\.isStarted).map(\.tenant)) }
    }

    /// Reads what `tenant`'s log has after the feed's tail and fans it out; answers whether there was anything.
    private func refresh(_ tenant: TenantID) async -> Bool {
        guard let feed = feeds.withLock({ $0[tenant] }), feed.isStarted else { return true }
        var any = false
        do {
            while true {
                let events = try await store.events.list(
                    tenant: tenant, query: EventQuery(after: feed.tail, limit: settings.page))
                guard !events.isEmpty else { break }
                any = true
                for cut in feed.publish(events) { remove(cut, from: feed) }
                if events.count < settings.page { break }
            }
        } catch {
            logger.debug("event hub read failed", metadata: ["tenant": "\(tenant)", "error": "\(error)"])
        }
        return any
    }

    /// Reads a page of the log for a subscriber catching up.
    func catchUpPage(_ feed: Feed, after: EventPosition) async throws -> [Event] {
        try await store.events.list(tenant: feed.tenant, query: EventQuery(after: after, limit: settings.page))
    }
}

/// Why a subscription ended.
public enum SubscriptionEnd: String, Sendable, Hashable {
    /// The subscriber fell too far behind; it resumes from the position it was given.
    case slowConsumer = "slow_consumer"
    /// The server is shutting down; resume on another node or after the restart.
    case shutdown
}

/// What a subscription yields.
public enum SubscriptionItem: Sendable {
    /// A matching event.
    case event(DeliveredEvent)
    /// The end, with the position after which the subscriber resumes (it has seen every matching event up to it).
    case end(SubscriptionEnd, resumeAfter: EventPosition)
}
