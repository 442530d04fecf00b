import AgentplaneCore
import AgentplaneStore
import Foundation

/// Builders for the records the conformance suite writes.
enum Fixtures {
    static func apiKey(
        prefix: String = randomPrefix(),
        tenant: TenantID = .platform,
        isBootstrap: Bool = false,
        createdAt: Timestamp = .now()
    ) -> APIKeyRecord {
        APIKeyRecord(
            id: UUIDv7.make(),
            tenantID: tenant,
            prefix: prefix,
            secretHash: String(repeating: "ab", count: 32),
            name: "test key",
            role: .admin,
            scopes: ["events:read", "events:publish"],
            isBootstrap: isBootstrap,
            createdAt: createdAt
        )
    }

    static func randomPrefix() -> String {
        String((0..<8).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
    }

    static func event(_ type: String = "test.happened", subject: String? = nil, data: JSONValue = .object([:]))
        -> NewEvent
    {
        NewEvent(type: type, subject: subject, data: data)
    }

    static func tenant() -> TenantID { TenantID(UUID()) }
}
