import AgentplaneCore
import AgentplaneStore
import Foundation
import GRDB

/// Idempotency keys on SQLite: the single writer makes claim-or-read atomic.
struct SQLiteIdempotencyStore: IdempotencyStore {
    let pool: DatabasePool

    func claim(_ scope: IdempotencyScope, fingerprint: String, now: Timestamp, expiresAt: Timestamp) async throws
        -> IdempotencyRecord?
    {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                let arguments: StatementArguments = [scope.tenantID.description, scope.principalID, scope.key]
                try db.cachedStatement(
                    sql: """
                        DELETE FROM idempotency_keys
                        WHERE tenant_id = ? AND principal_id = ? AND key = ? AND expires_at <= ?
                        """
                ).execute(
                    arguments: arguments + [now.microsecondsSinceEpoch]
                )
                try db.cachedStatement(
                    sql: """
                        INSERT INTO idempotency_keys (tenant_id, principal_id, key, fingerprint, created_at, expires_at)
                        VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                        """
                ).execute(
                    arguments: arguments + [fingerprint, now.microsecondsSinceEpoch, expiresAt.microsecondsSinceEpoch]
                )
                if db.changesCount == 1 { return nil }
                let row = try Row.fetchOne(
                    try db.cachedStatement(
                        sql: "SELECT * FROM idempotency_keys WHERE tenant_id = ? AND principal_id = ? AND key = ?"),
                    arguments: arguments
                )!
                return try Self.record(row)
            }
        }
    }

    func complete(_ scope: IdempotencyScope, response: StoredResponse) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: """
                        UPDATE idempotency_keys SET status = ?, headers = ?, body = ?
                        WHERE tenant_id = ? AND principal_id = ? AND key = ?
                        """
                ).execute(
                    arguments: [
                        response.status, try JSONEncoder().encode(response.headers).utf8String, Data(response.body),
                        scope.tenantID.description, scope.principalID, scope.key,
                    ]
                )
            }
        }
    }

    func release(_ scope: IdempotencyScope) async throws {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: """
                        DELETE FROM idempotency_keys
                        WHERE tenant_id = ? AND principal_id = ? AND key = ? AND status IS NULL
                        """
                ).execute(
                    arguments: [scope.tenantID.description, scope.principalID, scope.key]
                )
            }
        }
    }

    func purgeExpired(now: Timestamp, limit: Int) async throws -> Int {
        try await SQLiteErrors.translating {
            try await pool.write { db in
                try db.cachedStatement(
                    sql: """
                        DELETE FROM idempotency_keys WHERE (tenant_id, principal_id, key) IN (
                            SELECT tenant_id, principal_id, key FROM idempotency_keys WHERE expires_at <= ? LIMIT ?)
                        """
                ).execute(
                    arguments: [now.microsecondsSinceEpoch, limit]
                )
                return db.changesCount
            }
        }
    }

    static func record(_ row: Row) throws -> IdempotencyRecord {
        var response: StoredResponse?
        if let status = row["status"] as Int? {
            guard let headersText = row["headers"] as String?,
                let headers = try? JSONDecoder().decode([String: String].self, from: Data(headersText.utf8)),
                let body = row["body"] as Data?
            else { throw StoreError(.corruptData, "A stored idempotent response could not be decoded.") }
            response = StoredResponse(status: status, headers: headers, body: [UInt8](body))
        }
        return IdempotencyRecord(
            fingerprint: row["fingerprint"],
            response: response,
            expiresAt: Timestamp(microsecondsSinceEpoch: row["expires_at"])
        )
    }
}
