import AgentplaneCore

/// Which uniqueness rule a write broke. The raw value is the name both schemas give the constraint;
/// only the adapters read it.
public enum Uniqueness: String, Sendable, Hashable, CaseIterable {
    /// A live tenant already has the slug.
    case tenantSlug = "tenants_slug"
    /// The tenant already has a service account with the name.
    case serviceAccountName = "service_accounts_tenant_id_name"
    /// Another key has the prefix.
    case apiKeyPrefix = "api_keys_prefix"
    /// A bootstrap key exists already.
    case bootstrapKey = "api_keys_is_bootstrap"
    /// Another user has the email.
    case userEmail = "users_email"
    /// A live agent already has the type.
    case agentType = "agents_type"
    /// A live agent already uses the activation code.
    case agentActivationCode = "agents_activation_code"
    /// The tenant's log already has an event with the id.
    case eventID = "events_tenant_id_id"
    /// The tenant already has a secret with the name.
    case secretName = "secrets_tenant_id_name"
    /// The tenant already has an MCP server with the name.
    case mcpServerName = "mcp_servers_tenant_id_name"
    /// The tenant already has a consumer with the name.
    case consumerName = "consumers_tenant_id_name"
    /// A row with the same primary key or another unique value exists.
    case other

    /// The uniqueness a constraint (or index) name stands for.
    public init(constraintName: String) {
        self = Uniqueness(rawValue: constraintName) ?? .other
    }
}

/// The one error type every store adapter throws; driver errors are translated at the adapter boundary.
///
/// `description` is safe to show (no SQL, no driver text); `debugDescription` keeps the details for logs.
public struct StoreError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this is; callers branch on it.
    public enum Kind: Sendable, Hashable {
        /// A unique constraint rejected the write: which uniqueness it was.
        case uniqueViolation(Uniqueness)
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
    /// Runs `body`, turning whatever it throws into a `StoreError` with the adapter's `translate`; a
    /// domain error (`AgentplaneError`, a decision's refusal inside the transaction) passes through.
    @discardableResult
    public static func translating<T>(
        _ translate: (any Error) -> StoreError,
        _ body: () async throws -> T
    ) async throws -> T {
        do {
            return try await body()
        } catch let error as AgentplaneError {
            throw error
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

extension StoreError {
    /// A versioned write must move the version forward (decisions set it; the store only checks).
    public static func checkVersion(_ next: Int64, after expected: Int64) throws {
        guard next > expected else {
            throw StoreError(.other, "A write must raise the version above \(expected) (got \(next)).")
        }
    }
}
