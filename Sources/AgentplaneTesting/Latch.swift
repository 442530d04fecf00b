import Synchronization

/// A count-down latch for tests: `wait(within:)` returns once `countDown()` has been called `count`
/// times, and throws `Latch.Timeout` when that does not happen in time (a lost signal fails the test;
/// it never hangs it).
public final class Latch: Sendable {
    /// The latch did not open in time.
    public struct Timeout: Error, CustomStringConvertible {
        /// What was still missing.
        public var remaining: Int
        public var description: String { "timed out with \(remaining) count-downs missing" }

        /// A time-out with `remaining` missing.
        public init(remaining: Int) { self.remaining = remaining }
    }

    private struct State {
        var remaining: Int
        var waiters: [CheckedContinuation<Bool, Never>] = []
    }
    private let state: Mutex<State>

    /// A latch that opens after `count` count-downs.
    public init(count: Int) { state = Mutex(State(remaining: count)) }

    /// How many count-downs are still missing.
    public var remaining: Int { state.withLock { $0.remaining } }

    /// One count-down; the last one opens the latch.
    public func countDown() {
        let waiters = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            state.remaining -= 1
            guard state.remaining == 0 else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: true) }
    }

    /// Waits for the latch to open, at most `timeout`.
    public func wait(within timeout: Duration) async throws {
        let opened = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let open = self.state.withLock { state -> Bool in
                        if state.remaining <= 0 { return true }
                        state.waiters.append(continuation)
                        return false
                    }
                    if open { continuation.resume(returning: true) }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            if !first {
                // Release the waiter so the group can end.
                let waiters = self.state.withLock { state -> [CheckedContinuation<Bool, Never>] in
                    defer { state.waiters = [] }
                    return state.waiters
                }
                for waiter in waiters { waiter.resume(returning: false) }
            }
            return first
        }
        if !opened { throw Timeout(remaining: remaining) }
    }
}
