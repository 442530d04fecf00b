import AgentplaneCore
import Synchronization

/// Rung after every commit that appended events — on this node by the store itself, and on PostgreSQL for the
/// other nodes' commits too (LISTEN/NOTIFY) — so that readers of the log (the event hub, webhook dispatch, event
/// tasks) read at once instead of polling. A ring names the tenants whose logs grew, or none (`nil`: any tenant
/// may have; read every log you follow). Each listener collects the rings it has not taken yet, coalesced.
public final class EventBell: Sendable {
    private let listeners = Mutex<[ObjectIdentifier: Listener]>([:])

    /// Creates a bell nobody listens to yet.
    public init() {}

    /// Tells every listener that these tenants' logs grew (`nil`: any tenant's may have).
    public func ring(_ tenants: Set<TenantID>?) {
        for listener in listeners.withLock({ Array($0.values) }) { listener.deliver(tenants) }
    }

    /// A new listener; it hears rings from now until `stop(listening:)`.
    public func listen() -> Listener {
        let listener = Listener()
        listeners.withLock { $0[ObjectIdentifier(listener)] = listener }
        return listener
    }

    /// Stops delivering rings to `listener`.
    public func stop(listening listener: Listener) {
        _ = listeners.withLock { $0.removeValue(forKey: ObjectIdentifier(listener)) }
        listener.deliver(nil)
    }

    /// What a listener heard since it last asked.
    public enum Heard: Sendable, Equatable {
        /// These tenants' logs grew.
        case tenants(Set<TenantID>)
        /// Any tenant's log may have grown.
        case any
        /// Nothing within the timeout.
        case nothing
    }

    /// One reader's side of the bell.
    public final class Listener: Sendable {
        private struct State {
            var heard: Heard = .nothing
            var waiter: CheckedContinuation<Void, Never>?
        }
        private let state = Mutex(State())
        private let wakeup = RunWakeup()

        fileprivate init() {}

        fileprivate func deliver(_ tenants: Set<TenantID>?) {
            state.withLock { state in
                switch (state.heard, tenants) {
                case (.any, _), (_, nil): state.heard = .any
                case (.nothing, let tenants?): state.heard = .tenants(tenants)
                case (.tenants(let earlier), let tenants?): state.heard = .tenants(earlier.union(tenants))
                }
            }
            wakeup.signal()
        }

        /// Ends the current or next wait at once (shutdown).
        public func interrupt() { wakeup.signal() }

        /// What was heard since the last call, waiting up to `timeout` when nothing was.
        public func next(timeout: Duration) async -> Heard {
            if let heard = take() { return heard }
            await wakeup.wait(timeout: timeout)
            return take() ?? .nothing
        }

        private func take() -> Heard? {
            state.withLock { state in
                guard state.heard != .nothing else { return nil }
                defer { state.heard = .nothing }
                return state.heard
            }
        }
    }
}
