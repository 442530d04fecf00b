import AgentplaneStore
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// Keeps a query from waiting forever on a connection that has closed.
///
/// PostgresNIO 1.33 writes a query to its channel without a write promise: when the channel closed
/// just before (the server restarted, the network dropped), the write fails unseen and the query's
/// result never comes (vapor/postgres-nio#487, reverted in #501). A worker whose store call hangs so
/// keeps its slot forever; a transaction's ROLLBACK after the drop hangs the same way.
///
/// Every statement of the adapter goes through `PostgresConnection.guardedQuery`: the query runs in a
/// task of its own while its caller waits on a continuation that either the query's answer or the
/// connection's close resumes, whichever comes first (one close callback per connection, not one
/// per query). A query abandoned so is left to its task, which holds nothing but the closed connection.
final class PostgresQueryGuard: Sendable {
    static let shared = PostgresQueryGuard()

    private struct Watched {
        var waiters: [Int: @Sendable () -> Void] = [:]
    }
    private struct State {
        var nextID = 0
        var connections: [ObjectIdentifier: Watched] = [:]
    }
    private let state = Mutex(State())

    /// Registers `fail` to run if `connection` closes; nil when it is closed already. The id unregisters.
    func watch(_ connection: PostgresConnection, _ fail: @escaping @Sendable () -> Void) -> Int? {
        let key = ObjectIdentifier(connection)
        let (id, first) = state.withLock { state -> (Int, Bool) in
            state.nextID &+= 1
            let first = state.connections[key] == nil
            state.connections[key, default: Watched()].waiters[state.nextID] = fail
            return (state.nextID, first)
        }
        if first {
            // Runs at once when the connection has closed already (a completed future).
            connection.closeFuture.whenComplete { _ in self.closed(key) }
        }
        return id
    }

    /// The query answered: its waiter is no longer needed.
    func unwatch(_ connection: PostgresConnection, _ id: Int) {
        let key = ObjectIdentifier(connection)
        state.withLock { state in _ = state.connections[key]?.waiters.removeValue(forKey: id) }
    }

    private func closed(_ key: ObjectIdentifier) {
        let waiters = state.withLock { state in state.connections.removeValue(forKey: key)?.waiters ?? [:] }
        for fail in waiters.values { fail() }
    }

    /// Connections watched now (for tests: closed ones are forgotten).
    var watchedConnections: Int { state.withLock { $0.connections.count } }
}

/// A continuation resumed once, by whichever side comes first.
private final class ResumeOnce<Value: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<Value, any Error>?>(nil)

    func set(_ continuation: CheckedContinuation<Value, any Error>) {
        self.continuation.withLock { $0 = continuation }
    }

    func resume(with result: Result<Value, any Error>) {
        let waiting = continuation.withLock { current in
            defer { current = nil }
            return current
        }
        waiting?.resume(with: result)
    }
}

extension PostgresConnection {
    /// `query(_:logger:)`, failing with `unavailable` instead of waiting forever when the connection
    /// closes before the query reached it (see `PostgresQueryGuard`).
    @discardableResult
    package func guardedQuery(
        _ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line
    ) async throws -> PostgresRowSequence {
        if isClosed { throw Self.closedError }
        let once = ResumeOnce<PostgresRowSequence>()
        return try await withCheckedThrowingContinuation { continuation in
            once.set(continuation)
            // The waiter exists before the write, so a close at any moment after it fails the query. The
            // task starts at once on this thread (no executor hop before the write).
            let watch = PostgresQueryGuard.shared.watch(self) { once.resume(with: .failure(Self.closedError)) }
            Task.immediate {
                let result: Result<PostgresRowSequence, any Error>
                do {
                    result = .success(try await self.query(query, logger: logger, file: file, line: line))
                } catch {
                    result = .failure(error)
                }
                if let watch { PostgresQueryGuard.shared.unwatch(self, watch) }
                once.resume(with: result)
            }
        }
    }

    static let closedError = StoreError(.unavailable, "The database connection closed.")
}

extension PostgresClient {
    /// A transaction on a leased connection whose statements are all guarded: BEGIN, `body`, COMMIT;
    /// after a failure, ROLLBACK unless the connection has closed (the server ended the transaction
    /// then). Throws the first failure as it is.
    func withGuardedTransaction<Result: Sendable>(
        logger: Logger, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let appends = PostgresEventAppends()
        let value = try await PostgresEventAppends.$current.withValue(appends) {
            try await withConnection { connection in
                try await connection.guardedQuery("BEGIN", logger: logger)
                let value: Result
                do {
                    value = try await body(connection)
                } catch {
                    if !connection.isClosed { _ = try? await connection.guardedQuery("ROLLBACK", logger: logger) }
                    throw error
                }
                try await connection.guardedQuery("COMMIT", logger: logger)
                return value
            }
        }
        // Committed: the event bell rings for what it appended (here and, by NOTIFY, on the other nodes).
        appends.committed(on: self)
        return value
    }

    /// One statement on a leased connection, guarded; its rows are consumed by `consume`.
    func guardedQuery<Result: Sendable>(
        _ query: PostgresQuery, logger: Logger, _ consume: (PostgresRowSequence) async throws -> Result
    ) async throws -> Result {
        try await withConnection { connection in
            try await consume(try await connection.guardedQuery(query, logger: logger))
        }
    }
}
