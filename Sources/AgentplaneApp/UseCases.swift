import AgentplaneCore
import AgentplaneStore

/// The one door to every change and query the platform offers. HTTP handlers, the CLI, commands and
/// workers call these; each reads state through the ports, asks a decision in Core, and commits
/// state, events and the audit row in one store transaction.
public struct UseCases: Sendable {
    /// The persistence ports.
    public let store: any Store
    /// Where time comes from.
    public let clock: any WallClock
    /// bcrypt (or a cheaper hash in tests).
    public let passwords: any PasswordHashing
    /// The server's settings for tasks.
    public var taskSettings = TaskSettings()
    /// The server's settings for tools (secrets, MCP servers).
    public var toolSettings = ToolSettings()
    /// The server's settings for webhooks (delivery policy, sender).
    public var webhookSettings = WebhookSettings()
    /// How active instances are probed (interval, failure threshold, checks kept).
    public var healthPolicy = InstanceHealthPolicy()

    /// Creates the use cases over `store`.
    public init(store: any Store, clock: any WallClock = SystemWallClock(), passwords: any PasswordHashing) {
        self.store = store
        self.clock = clock
        self.passwords = passwords
    }

    /// The tenant the caller acts in (`named` nil: its own). A platform admin naming another tenant
    /// must name one that exists; anyone else naming another is a 404.
    public func actingTenant(_ named: TenantID?, for caller: Caller) async throws -> TenantID {
        let tenant = try caller.principal.actingTenant(named: named)
        if tenant != caller.principal.tenantID, try await store.tenants.find(id: tenant) == nil {
            throw AgentplaneError(.notFound, "No such tenant.")
        }
        return tenant
    }

    /// Runs a versioned write; a stale version becomes 412 `PRECONDITION_FAILED` naming the current ETag.
    func checkingVersion<T>(
        of resource: String, expected: Int64, current: Int64, _ write: () async throws -> T
    ) async throws -> T {
        do {
            return try await write()
        } catch let error as StoreError where error.kind == .staleVersion {
            throw AgentplaneError(
                .preconditionFailed,
                "The \(resource) changed since version \(expected); read it again and retry.",
                details: ["current_etag": .string("\"\(current)\"")]
            )
        }
    }

    /// Runs a write, turning the uniqueness it may break into the 409 naming the field.
    func mappingConflicts<T>(
        _ conflicts: [Uniqueness: (detail: String, pointer: String)], _ write: () async throws -> T
    ) async throws -> T {
        do {
            return try await write()
        } catch let error as StoreError {
            guard case .uniqueViolation(let uniqueness) = error.kind, let conflict = conflicts[uniqueness] else {
                throw error
            }
            throw AgentplaneError(
                .conflict, conflict.detail, fieldErrors: [FieldError(pointer: conflict.pointer, message: "is taken")])
        }
    }
}

/// One page of a list, and the cursor of the next one.
public struct Page<Item: Sendable>: Sendable {
    /// The items.
    public var items: [Item]
    /// Whether more follow.
    public var hasMore: Bool

    /// Splits `fetched` (asked with `limit + 1`) into a page of `limit`.
    public init(fetched: [Item], limit: Int) {
        self.items = Array(fetched.prefix(limit))
        self.hasMore = fetched.count > limit
    }
}
