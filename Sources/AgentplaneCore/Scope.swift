/// The `resource:action` permissions a credential can carry; docs/security.md lists them.
public enum Scope {
    /// Every scope a key may be granted, with what it allows.
    public static let catalogue: [(scope: String, allows: String)] = [
        ("agents:read", "read the agent catalog (active agents; platform admins see all)"),
        ("instances:read", "read the tenant's instances"),
        ("instances:write", "create, change, start, stop and delete the tenant's instances"),
        (
            "instances:run",
            "run the tenant's instances, activate and deactivate them, and call them through the gateway"
        ),
        ("events:read", "read the tenant's event log"),
        ("events:publish", "publish events to the tenant's log"),
        ("service_accounts:read", "list service accounts and their keys (prefixes only)"),
        ("service_accounts:write", "create and delete service accounts, create and revoke their keys"),
        ("audit:read", "read the tenant's audit log"),
        ("tasks:read", "read the tenant's tasks and preview schedules"),
        ("tasks:write", "create, change, run, snooze, pause, resume, cancel and delete the tenant's tasks"),
        ("secrets:read", "list the tenant's secrets (names and times; values are never returned)"),
        ("secrets:write", "create, replace and delete the tenant's secrets"),
        ("mcp_servers:read", "read the tenant's MCP servers and list their tools"),
        ("mcp_servers:write", "register, change and remove the tenant's MCP servers"),
        ("webhooks:read", "read the tenant's webhook subscriptions and their delivery logs"),
        ("webhooks:write", "create, change, test and delete webhook subscriptions, rotate secrets, replay deliveries"),
        ("consumers:read", "read named consumers, their lag, and fetch their next events"),
        ("consumers:write", "create and delete named consumers and commit their offsets"),
        ("commands:read", "read commands and their results"),
        ("commands:write", "submit and replay commands"),
        ("runs:read", "read the tenant's runs (the job engine's work and its dead letters)"),
        ("runs:write", "cancel and replay the tenant's runs"),
        ("tenants:read", "read the caller's own tenant"),
        ("admin:*", "everything in the tenant (tenant admins); with the platform_admin role, the whole platform"),
    ]

    /// Whether `scope` is in the catalogue.
    public static func isKnown(_ scope: String) -> Bool { catalogue.contains { $0.scope == scope } }

    /// The scopes a role may hold at most; a key's scopes are limited to its role's.
    public static func ceiling(for role: Role) -> Set<String> {
        switch role {
        case .platformAdmin, .admin: allScopes
        case .member: memberCeiling
        case .viewer: viewerCeiling
        }
    }

    // Built once: every authenticated request filters its scopes through a ceiling.
    private static let allScopes = Set(catalogue.map(\.scope))
    private static let memberCeiling = allScopes.subtracting(["admin:*", "audit:read", "service_accounts:write"])
    private static let viewerCeiling = allScopes.filter { $0.hasSuffix(":read") && $0 != "audit:read" }

    /// The scopes a caller holding `granted` (with `role`) may hand on: what the role allows with
    /// `admin:*`, otherwise only what the caller itself holds.
    public static func grantable(by granted: [String], role: Role) -> Set<String> {
        granted.contains("admin:*") ? ceiling(for: role) : Set(granted).intersection(ceiling(for: role))
    }

    /// Whether granted scopes satisfy `required` (`admin:*` satisfies everything).
    public static func allows(_ granted: [String], _ required: String) -> Bool {
        granted.contains(required) || granted.contains("admin:*")
    }
}
