/// Runs `operation`, cancelling it and giving up after `timeout`: probes must answer promptly, and
/// workers must not wait forever, when the database hangs (a pool waiting to reconnect keeps a lease
/// request open indefinitely; store calls give it up when cancelled).
public func withDeadline<T: Sendable>(
    _ timeout: Duration,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw DeadlineExceeded() }
        return value
    }
}

/// The operation did not finish in time.
public struct DeadlineExceeded: Error {
    /// Creates the error.
    public init() {}
}
