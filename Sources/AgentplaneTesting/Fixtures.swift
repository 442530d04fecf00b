import AgentplaneCore
import AgentplaneStore
import Foundation

/// Builders for the records tests write straight into a store, shared by every test target.
public enum Fixtures {
    /// An API key record of `tenant` with a dummy hash.
    public static func apiKey(
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

    /// Eight random lowercase letters and digits, the shape of a key prefix.
    public static func randomPrefix() -> String {
        String((0..<8).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
    }

    /// A new event of `type`.
    public static func event(_ type: String = "test.happened", subject: String? = nil, data: JSONValue = .object([:]))
        -> NewEvent
    {
        NewEvent(type: type, subject: subject, data: data)
    }

    /// A random tenant id (no tenant row behind it).
    public static func tenant() -> TenantID { TenantID(UUID()) }

    /// A successful audit entry of `tenant` for `operation`.
    public static func audit(_ tenant: TenantID, operation: String = "test", status: Int = 200) -> AuditEntry {
        AuditEntry(
            tenantID: tenant,
            principalID: "test",
            keyPrefix: nil,
            operation: operation,
            resourceType: "test",
            resourceID: nil,
            requestID: nil,
            clientAddress: nil,
            outcome: .success,
            status: status
        )
    }

    /// A change record with no events and the audit entry above.
    public static func record(_ tenant: TenantID, events: [NewEvent] = []) -> ChangeRecord {
        ChangeRecord(events: events, audit: audit(tenant))
    }

    /// An active catalog agent with a unique type.
    public static func agent() -> Agent {
        let now = Timestamp.now()
        return Agent(
            id: UUIDv7.make(),
            type: "agent-\(UUID().uuidString.prefix(8).lowercased())",
            name: "Agent",
            description: "",
            category: "test",
            defaultConfig: ["model": "a"],
            content: .object([:]),
            activationCode: nil,
            rate: 0,
            isActive: true,
            version: 1,
            createdAt: now,
            updatedAt: now
        )
    }

    /// An active tenant row (random slug unless given), created in `store`.
    @discardableResult
    public static func createTenant(
        in store: any Store,
        slug: String? = nil,
        quotas: TenantQuotas = .defaults
    ) async throws -> Tenant {
        let now = Timestamp.now()
        let tenant = Tenant(
            id: TenantID(UUIDv7.make()),
            slug: slug ?? "t\(UUID().uuidString.prefix(8).lowercased())",
            name: slug ?? "T",
            status: .active,
            quotas: quotas,
            version: 1,
            createdAt: now,
            updatedAt: now
        )
        try await store.tenants.create(tenant, record: record(tenant.id))
        return tenant
    }

    /// A pending instance of `agent` in `tenant` (not stored).
    public static func instance(_ tenant: TenantID, agent: Agent, name: String = "i") -> Instance {
        let now = Timestamp.now()
        return Instance(
            id: UUIDv7.make(), tenantID: tenant, agentID: agent.id, ownerUserID: "test", projectID: nil, name: name,
            userConfig: [:], config: agent.defaultConfig, pipelineConfig: .object([:]), status: .pending, version: 1,
            createdAt: now, updatedAt: now
        )
    }
}
