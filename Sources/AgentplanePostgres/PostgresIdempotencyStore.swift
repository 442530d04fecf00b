import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Idempotency keys on PostgreSQL: the primary key decides the one winner among concurrent claims.
struct PostgresIdempotencyStore: IdempotencyStore {
    let client: PostgresClient
    let logger: Logger

    func claim(_ scope: IdempotencyScope, fingerprint: String, now: Timestamp, expiresAt: Timestamp) async throws
        -> IdempotencyRecord?
    {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(scope.tenantID), logger: logger) { connection in
                try await connection.guardedQuery(
                    """
                    DELETE FROM idempotency_keys
                    WHERE tenant_id = \(scope.tenantID.rawValue) AND principal_id = \(scope.principalID)
                        AND key = \(scope.key) AND expires_at <= ap_ts(\(now.microsecondsSinceEpoch))
                    """,
                    logger: logger
                )
                var inserted = false
                for try await _ in try await connection.guardedQuery(
                    """
                    INSERT INTO idempotency_keys (tenant_id, principal_id, key, fingerprint, created_at, expires_at)
                    VALUES (\(scope.tenantID.rawValue), \(scope.principalID), \(scope.key), \(fingerprint),
                        ap_ts(\(now.microsecondsSinceEpoch)), ap_ts(\(expiresAt.microsecondsSinceEpoch)))
                    ON CONFLICT DO NOTHING RETURNING key
                    """,
                    logger: logger
                ) {
                    inserted = true
                }
                if inserted { return nil }
                let rows = try await connection.guardedQuery(
                    """
                    SELECT fingerprint, status, headers::text AS headers, body, ap_micros(expires_at) AS expires_at
                    FROM idempotency_keys
                    WHERE tenant_id = \(scope.tenantID.rawValue) AND principal_id = \(scope.principalID)
                        AND key = \(scope.key)
                    """,
                    logger: logger
                )
                for try await row in rows { return try Self.record(row.makeRandomAccess()) }
                // The holder released it between our insert and read: report it as in progress.
                return IdempotencyRecord(fingerprint: fingerprint, response: nil, expiresAt: expiresAt)
            }
        }
    }

    func complete(_ scope: IdempotencyScope, response: StoredResponse) async throws {
        let headers = String(decoding: try JSONEncoder().encode(response.headers), as: UTF8.self)
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(scope.tenantID), logger: logger) { connection in
                try await connection.guardedQuery(
                    """
                    UPDATE idempotency_keys SET status = \(response.status), headers = \(headers)::jsonb,
                        body = \(ByteBuffer(bytes: response.body))
                    WHERE tenant_id = \(scope.tenantID.rawValue) AND principal_id = \(scope.principalID) AND key = \(scope.key)
                    """,
                    logger: logger
                )
            }
        }
    }

    func release(_ scope: IdempotencyScope) async throws {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.tenant(scope.tenantID), logger: logger) { connection in
                try await connection.guardedQuery(
                    """
                    DELETE FROM idempotency_keys
                    WHERE tenant_id = \(scope.tenantID.rawValue) AND principal_id = \(scope.principalID)
                        AND key = \(scope.key) AND status IS NULL
                    """,
                    logger: logger
                )
            }
        }
    }

    func purgeExpired(now: Timestamp, limit: Int) async throws -> Int {
        try await PostgresErrors.translating {
            try await client.withTenantTransaction(.platformWide, logger: logger) { connection in
                var purged = 0
                for try await _ in try await connection.guardedQuery(
                    """
                    DELETE FROM idempotency_keys WHERE ctid IN (
                        SELECT ctid FROM idempotency_keys WHERE expires_at <= ap_ts(\(now.microsecondsSinceEpoch))
                        LIMIT \(limit))
                    RETURNING key
                    """,
                    logger: logger
                ) {
                    purged += 1
                }
                return purged
            }
        }
    }

    static func record(_ row: PostgresRandomAccessRow) throws -> IdempotencyRecord {
        var response: StoredResponse?
        if let status = try row["status"].decode(Int?.self) {
            guard let headersText = try row["headers"].decode(String?.self),
                let headers = try? JSONDecoder().decode([String: String].self, from: Data(headersText.utf8)),
                let body = try row["body"].decode(ByteBuffer?.self)
            else { throw StoreError(.corruptData, "A stored idempotent response could not be decoded.") }
            response = StoredResponse(status: status, headers: headers, body: Array(buffer: body))
        }
        return IdempotencyRecord(
            fingerprint: try row["fingerprint"].decode(String.self),
            response: response,
            expiresAt: Timestamp(microsecondsSinceEpoch: try row["expires_at"].decode(Int64.self))
        )
    }
}
