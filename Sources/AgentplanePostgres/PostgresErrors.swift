import AgentplaneCore
import AgentplaneStore
import PostgresNIO

/// Translates PostgresNIO errors into `StoreError` at the adapter boundary.
enum PostgresErrors {
    /// Runs `body`, translating whatever it throws; inside a trace, as a span named after the calling store
    /// operation.
    @discardableResult
    static func translating<T>(
        function: String = #function, fileID: String = #fileID, _ body: () async throws -> T
    ) async throws -> T {
        try await TraceSpans.storeCall(system: "postgresql", fileID: fileID, function: function) {
            try await StoreError.translating(translate) {
                do {
                    return try await body()
                } catch let error as PostgresTransactionError {
                    // A decision's refusal inside a transaction is the caller's answer, not a database failure.
                    if let domain = error.closureError as? AgentplaneError { throw domain }
                    throw error
                }
            }
        }
    }

    /// The `StoreError` for a driver error (a `StoreError` passes through unchanged).
    static func translate(_ error: any Error) -> StoreError {
        if let storeError = error as? StoreError { return storeError }
        if let transactionError = error as? PostgresTransactionError {
            // The cause is whichever step failed first; a failed rollback after it changes nothing for callers.
            if let cause = transactionError.closureError ?? transactionError.beginError ?? transactionError.commitError
            {
                return translate(cause)
            }
            return StoreError(.other, "The transaction failed.", underlying: String(reflecting: transactionError))
        }
        if error is CancellationError { return StoreError(.unavailable, "The database operation was cancelled.") }
        guard let psqlError = error as? PSQLError else {
            return StoreError(.other, "The database operation failed.", underlying: String(reflecting: error))
        }
        let sqlState = psqlError.serverInfo?[.sqlState]
        let underlying = "PostgreSQL \(psqlError.code) \(sqlState ?? "-"): \(psqlError.serverInfo?[.message] ?? "")"
        switch sqlState {
        case "23505":
            return StoreError(
                .uniqueViolation(Uniqueness(constraintName: psqlError.serverInfo?[.constraintName] ?? "")),
                "A record with the same unique value already exists.",
                underlying: underlying
            )
        case "40001", "40P01":
            return StoreError(.serializationFailure, "A concurrent change conflicted; retry.", underlying: underlying)
        case let state? where state.hasPrefix("08") || state.hasPrefix("57") || state.hasPrefix("53"):
            return StoreError(.unavailable, "The database is unavailable.", underlying: underlying)
        case nil:
            // No server answer at all: the connection failed or closed.
            return StoreError(.unavailable, "The database is unavailable.", underlying: underlying)
        default:
            return StoreError(.other, "The database operation failed.", underlying: underlying)
        }
    }
}
