import AgentplaneCore
import Synchronization

/// A clock that moves only when a test says so.
public final class ManualClock: WallClock {
    private let current: Mutex<Timestamp>

    /// A clock standing at `start` (default: the real now, so stored rows look ordinary).
    public init(at start: Timestamp = .now()) {
        current = Mutex(start)
    }

    public func now() -> Timestamp { current.withLock { $0 } }

    /// Moves the clock forward by `seconds`.
    public func advance(seconds: Int64) {
        current.withLock { $0 = Timestamp(microsecondsSinceEpoch: $0.microsecondsSinceEpoch + seconds * 1_000_000) }
    }
}
