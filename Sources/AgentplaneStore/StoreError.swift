/// The one error type every store adapter throws; driver errors are translated at the adapter boundary.
///
/// `description` is safe to show (no SQL, no driver text); `debugDescription` keeps the details for logs.
public struct StoreError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this is; callers branch on it.
    public enum Kind: Sendable, Hashable {
        /// A unique constraint rejected the write; `constraint` names it (e.g. `events_tenant_id_id`).
        case uniqueViolation(constraint: String)
        /// The row the operation needs does not exist.
        case notFound
        /// The row changed since the caller read it (optimistic concurrency).
        case staleVersion
        /// A count quota would be exceeded; `limit` is the quota.
        case quotaExceeded(limit: Int)
        /// The database cannot be reached or refused the connection.
        case unavailable
        /// A concurrent transaction made this one fail; retrying may succeed.
        case serializationFailure
        /// The database holds a schema this binary does not know (newer migrations).
        case incompatibleSchema
        /// Stored data could not be decoded.
        case corruptData
        /// Anything else the driver reported.
        case other
    }

    /// The kind of failure.
    public var kind: Kind
    /// Redacted, client-safe summary.
    public var summary: String
    /// Driver details for operators' logs only.
    public var underlying: String

    /// Creates a store error.
    public init(_ kind: Kind, _ summary: String, underlying: String = "") {
        self.kind = kind
        self.summary = summary
        self.underlying = underlying
    }

    public var description: String { summary }
    public var debugDescription: String { underlying.isEmpty ? summary : "\(summary) [\(underlying)]" }
}

extension StoreError {
    /// Runs `body`, turning whatever it throws into a `StoreError` with the adapter's `translate`.
    @discardableResult
    public static func translating<T>(
        _ translate: (any Error) -> StoreError,
        _ body: () async throws -> T
    ) async throws -> T {
        do {
            return try await body()
        } catch {
            throw translate(error)
        }
    }
}

extension StoreError {
    /// A write conditioned on a version (and state) matched no row: the row changed if it still
    /// exists, else it is gone.
    public static func conditionalWriteMissed(_ resource: String, rowExists: Bool) -> StoreError {
        rowExists
            ? StoreError(.staleVersion, "The \(resource) changed since it was read.")
            : StoreError(.notFound, "No such \(resource).")
    }
}
