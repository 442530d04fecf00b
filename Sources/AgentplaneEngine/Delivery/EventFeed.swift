import AgentplaneCore
import AgentplaneStore
import Foundation
import Metrics
import Synchronization

/// The hub's metrics (docs/operations.md).
enum HubMetrics {
    /// Open subscriptions (SSE streams, WebSocket subscriptions, long polls) on this node, per tenant.
    static func subscribers(_ tenant: TenantID) -> Meter {
        Meter(label: "agentplane_event_subscribers", dimensions: [("tenant", tenant.description)])
    }
    /// Subscribers cut off for falling behind.
    static let slowConsumers = Counter(
        label: "agentplane_event_subscribers_cut_total", dimensions: [("reason", "slow_consumer")])
    /// From an event's time to its fan-out to this node's subscribers.
    static let deliveryLag = Metrics.Timer(label: "agentplane_event_delivery_lag_seconds")
}

/// One followed tenant: where the hub has read its log to, the recent events, and the subscribers.
final class Feed: Sendable {
    let tenant: TenantID
    private let limits: EventHubSettings
    private struct State {
        var started = false
        /// The last position read.
        var tail = EventPosition.start
        /// `recent` holds every event after this position up to `tail`.
        var floor = EventPosition.start
        var recent: [DeliveredEvent] = []
        var subscribers: [ObjectIdentifier: Subscriber] = [:]
    }
    private let state = Mutex(State())

    init(tenant: TenantID, limits: EventHubSettings) {
        self.tenant = tenant
        self.limits = limits
    }

    var isStarted: Bool { state.withLock(\.started) }
    var tail: EventPosition { state.withLock(\.tail) }
    var floor: EventPosition { state.withLock(\.floor) }
    var count: Int { state.withLock(\.subscribers.count) }

    /// Starts following at `position` (the log's end when the first subscriber came); the first call wins.
    func start(at position: EventPosition) {
        state.withLock { state in
            guard !state.started else { return }
            state.started = true
            state.tail = position
            state.floor = position
        }
    }

    func add(_ subscriber: Subscriber) {
        state.withLock { $0.subscribers[ObjectIdentifier(subscriber)] = subscriber }
    }

    /// Removes `subscriber`; answers whether it was there.
    func remove(_ subscriber: Subscriber) -> Bool {
        state.withLock { $0.subscribers.removeValue(forKey: ObjectIdentifier(subscriber)) != nil }
    }

    /// What a subscriber catching up at `after` does next.
    enum CatchUp {
        /// It is live: the recent events after `after` are queued for it.
        case joined
        /// These recent events come next (too many to queue at once); take them, then ask again.
        case recent([DeliveredEvent])
        /// The recent events do not reach back to `after`: read the log.
        case readLog
    }

    /// Makes `subscriber` live when the recent events reach back to `after` and fewer than half its queue
    /// follow it; otherwise hands out the next recent events, or sends it to the log.
    func join(_ subscriber: Subscriber, after: EventPosition, page: Int) -> CatchUp {
        state.withLock { state in
            guard state.started, after >= state.floor else { return .readLog }
            let first = state.recent.partitionPoint { $0.position > after }
            let backlog = state.recent.count - first
            guard backlog <= subscriber.limit / 2 else {
                return .recent(Array(state.recent[first..<min(first + page, state.recent.count)]))
            }
            subscriber.goLive(recent: state.recent[first...], after: after, tail: state.tail)
            return .joined
        }
    }

    /// Appends newly read events and offers them to the live subscribers; answers the ones cut off.
    func publish(_ read: [Event]) -> [Subscriber] {
        // Wrapped once: every subscriber shares the event and its rendered JSON.
        let events = read.map(DeliveredEvent.init)
        guard let last = events.last else { return [] }
        let now = Timestamp(Date()).microsecondsSinceEpoch
        for event in read {
            HubMetrics.deliveryLag.recordNanoseconds(max(0, now - event.time.microsecondsSinceEpoch) * 1_000)
        }
        return state.withLock { state in
            let fresh = events.filter { $0.position > state.tail }
            guard !fresh.isEmpty else { return [] }
            state.recent.append(contentsOf: fresh)
            let excess = state.recent.count - limits.recentEvents
            if excess > 0 {
                state.floor = state.recent[excess - 1].position
                state.recent.removeFirst(excess)
            }
            state.tail = last.position
            return state.subscribers.values.filter { !$0.offer(fresh) }
        }
    }

    /// Ends every subscription (shutdown).
    func endAll(_ reason: SubscriptionEnd) {
        for subscriber in state.withLock({ Array($0.subscribers.values) }) { subscriber.end(reason) }
    }
}

/// One subscription's queue: events waiting to be taken, and how it ended.
final class Subscriber: Sendable {
    let filter: EventFilter
    let limit: Int
    private struct State {
        var live = false
        /// Every matching event up to here is queued or taken.
        var position = EventPosition.start
        var queue: [DeliveredEvent] = []
        var head = 0
        var ended: SubscriptionEnd?
    }
    private let state = Mutex(State())
    private let signal = RunWakeup()

    init(filter: EventFilter, limit: Int) {
        self.filter = filter
        self.limit = limit
    }

    var endReason: SubscriptionEnd? { state.withLock(\.ended) }

    /// Called under the feed's lock.
    func goLive(recent: ArraySlice<DeliveredEvent>, after: EventPosition, tail: EventPosition) {
        state.withLock { state in
            state.live = true
            state.position = after
        }
        _ = offer(Array(recent))
        state.withLock { state in
            if tail > state.position, state.ended == nil { state.position = tail }
        }
    }

    /// Queues the matching events after the position; false when the queue overflowed (the subscriber is cut off,
    /// resuming after the last event it got or skipped).
    func offer(_ events: [DeliveredEvent]) -> Bool {
        let (accepted, queued) = state.withLock { state -> (Bool, Bool) in
            guard state.live, state.ended == nil else { return (true, false) }
            var queued = false
            for event in events where event.position > state.position {
                if filter.matches(event.event) {
                    if state.queue.count - state.head >= limit {
                        state.ended = .slowConsumer
                        return (false, true)
                    }
                    state.queue.append(event)
                    queued = true
                }
                state.position = event.position
            }
            return (true, queued)
        }
        if queued || !accepted { signal.signal() }
        if !accepted { HubMetrics.slowConsumers.increment() }
        return accepted
    }

    /// Ends the subscription after what is queued.
    func end(_ reason: SubscriptionEnd) {
        state.withLock { state in
            if state.ended == nil { state.ended = reason }
        }
        signal.signal()
    }

    /// The next queued event, the end, or nil when nothing came within `timeout`.
    func take(timeout: Duration) async -> SubscriptionItem? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let item = poll() { return item }
            let left = deadline - .now
            // A signal may be left over from an item already taken: wait again until the deadline.
            guard left > .zero, !Task.isCancelled else { return nil }
            await signal.wait(timeout: left)
        }
    }

    private func poll() -> SubscriptionItem? {
        state.withLock { state in
            if state.head < state.queue.count {
                let event = state.queue[state.head]
                state.head += 1
                if state.head > 256, state.head * 2 > state.queue.count {
                    state.queue.removeFirst(state.head)
                    state.head = 0
                }
                return .event(event)
            }
            if let ended = state.ended { return .end(ended, resumeAfter: state.position) }
            return nil
        }
    }
}

/// One subscriber's view: catches up from the log on its own, then takes the live feed's events.
public final class EventSubscription: Sendable {
    private let hub: EventHub
    private let feed: Feed
    let subscriber: Subscriber
    /// Where the subscription started: after this position.
    public let start: EventPosition
    private struct State {
        var after: EventPosition
        var page: [DeliveredEvent] = []
        var index = 0
        var live = false
    }
    private let state: Mutex<State>

    init(hub: EventHub, feed: Feed, subscriber: Subscriber, after: EventPosition, live: Bool) {
        self.hub = hub
        self.feed = feed
        self.subscriber = subscriber
        self.start = after
        self.state = Mutex(State(after: after, live: live))
    }

    /// The next matching event or the end; nil when nothing came within `timeout` (time for a heartbeat).
    public func next(timeout: Duration) async throws -> SubscriptionItem? {
        while true {
            if state.withLock(\.live) { return await subscriber.take(timeout: timeout) }
            let (pending, after) = state.withLock { state -> (DeliveredEvent?, EventPosition) in
                guard state.index < state.page.count else { return (nil, state.after) }
                let event = state.page[state.index]
                state.index += 1
                state.after = event.position
                return (event, state.after)
            }
            if let pending {
                if subscriber.filter.matches(pending.event) { return .event(pending) }
                continue
            }
            if let ended = subscriber.endReason { return .end(ended, resumeAfter: after) }
            let page: [DeliveredEvent]
            switch feed.join(subscriber, after: after, page: hub.settings.page) {
            case .joined:
                state.withLock { $0.live = true }
                continue
            case .recent(let recent): page = recent
            case .readLog: page = try await hub.catchUpPage(feed, after: after).map(DeliveredEvent.init)
            }
            let floor = feed.floor
            state.withLock { state in
                state.page = page
                state.index = 0
                // Nothing between here and the recent events (a retention sweep deleted them): go on from there.
                if page.isEmpty, floor > state.after { state.after = floor }
            }
        }
    }

    /// Ends the subscription after what is queued (the next items are those, then `.end(reason)`).
    public func end(_ reason: SubscriptionEnd) { subscriber.end(reason) }

    /// Stops the subscription.
    public func cancel() { hub.remove(subscriber, from: feed) }

    deinit { hub.remove(subscriber, from: feed) }
}

extension Array {
    /// The index of the first element for which `belongs` holds, in an array where it holds for a suffix.
    func partitionPoint(_ belongs: (Element) -> Bool) -> Int {
        var (low, high) = (0, count)
        while low < high {
            let middle = (low + high) / 2
            if belongs(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}

/// An event on its way to subscribers, with its JSON rendered at most once per format however many streams
/// write it.
public final class DeliveredEvent: Sendable {
    /// The event.
    public let event: Event
    private let rendered = Mutex<[EventFormat: [UInt8]]>([:])

    init(_ event: Event) { self.event = event }

    /// Its position in the log.
    public var position: EventPosition { event.position }

    /// Its JSON in `format`.
    public func json(_ format: EventFormat) -> [UInt8] {
        if let bytes = rendered.withLock({ $0[format] }) { return bytes }
        let bytes = format.render(event)
        rendered.withLock { $0[format] = bytes }
        return bytes
    }
}
