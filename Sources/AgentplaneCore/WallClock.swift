import Foundation

/// Where use cases, stores and the rate limiter read the time: injected, so tests control it.
public protocol WallClock: Sendable {
    /// The current instant.
    func now() -> Timestamp
}

/// The system's real-time clock.
public struct SystemWallClock: WallClock {
    /// Creates the clock.
    public init() {}

    public func now() -> Timestamp { .now() }
}
