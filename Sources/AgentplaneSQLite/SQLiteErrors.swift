import AgentplaneStore
import Foundation
import GRDB

/// Translates GRDB/SQLite errors into `StoreError` at the adapter boundary.
enum SQLiteErrors {
    /// Runs `body`, translating whatever it throws; inside a trace, as a span named after the calling store
    /// operation.
    @discardableResult
    static func translating<T>(
        function: String = #function, fileID: String = #fileID, _ body: () async throws -> T
    ) async throws -> T {
        try await TraceSpans.storeCall(system: "sqlite", fileID: fileID, function: function) {
            try await StoreError.translating(translate, body)
        }
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
                .uniqueViolation(uniqueness(databaseError.message ?? "")),
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

    /// The uniqueness SQLite names by its columns (`UNIQUE constraint failed: agents.type`).
    static func uniqueness(_ message: String) -> Uniqueness {
        guard let range = message.range(of: "constraint failed: ") else { return .other }
        let columns = message[range.upperBound...].split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        return uniquenessByColumns[columns.joined(separator: ",")] ?? .other
    }

    /// The schema's unique indexes, by the columns SQLite reports.
    private static let uniquenessByColumns: [String: Uniqueness] = [
        "tenants.slug": .tenantSlug,
        "service_accounts.tenant_id,service_accounts.name": .serviceAccountName,
        "api_keys.prefix": .apiKeyPrefix,
        "api_keys.is_bootstrap": .bootstrapKey,
        "users.email": .userEmail,
        "agents.type": .agentType,
        "agents.activation_code": .agentActivationCode,
        "events.tenant_id,events.id": .eventID,
        "secrets.tenant_id,secrets.name": .secretName,
        "mcp_servers.tenant_id,mcp_servers.name": .mcpServerName,
        "consumers.tenant_id,consumers.name": .consumerName,
    ]
}
