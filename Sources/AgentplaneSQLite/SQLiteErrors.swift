import AgentplaneStore
import Foundation
import GRDB

/// Translates GRDB/SQLite errors into `StoreError` at the adapter boundary.
enum SQLiteErrors {
    /// Runs `body`, translating whatever it throws.
    @discardableResult
    static func translating<T>(_ body: () async throws -> T) async throws -> T {
        try await StoreError.translating(translate, body)
    }

    /// The `StoreError` for a driver error (a `StoreError` passes through unchanged).
    static func translate(_ error: any Error) -> StoreError {
        if let storeError = error as? StoreError { return storeError }
        guard let databaseError = error as? DatabaseError else {
            return StoreError(.other, "The database operation failed.", underlying: String(describing: error))
        }
        let underlying = "SQLite \(databaseError.extendedResultCode): \(databaseError.message ?? "")"
        switch databaseError.extendedResultCode {
        case .SQLITE_CONSTRAINT_UNIQUE, .SQLITE_CONSTRAINT_PRIMARYKEY:
            return StoreError(
                .uniqueViolation(constraint: constraintName(databaseError.message ?? "")),
                "A record with the same unique value already exists.",
                underlying: underlying
            )
        default:
            switch databaseError.resultCode {
            case .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_CANTOPEN, .SQLITE_IOERR, .SQLITE_FULL, .SQLITE_READONLY:
                return StoreError(.unavailable, "The database is unavailable.", underlying: underlying)
            case .SQLITE_CORRUPT, .SQLITE_NOTADB:
                return StoreError(.corruptData, "The database file is damaged.", underlying: underlying)
            default:
                return StoreError(.other, "The database operation failed.", underlying: underlying)
            }
        }
    }

    /// `UNIQUE constraint failed: events.tenant_id, events.id` → `events_tenant_id_id`, the name the
    /// PostgreSQL schema gives the same constraint.
    static func constraintName(_ message: String) -> String {
        guard let range = message.range(of: "constraint failed: ") else { return "unknown" }
        let columns = message[range.upperBound...].split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard let table = columns.first?.split(separator: ".").first else { return "unknown" }
        let names = columns.compactMap { $0.split(separator: ".").last.map(String.init) }
        return ([String(table)] + names).joined(separator: "_")
    }
}
