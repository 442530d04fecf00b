/// What a backend can do, so callers choose strategies by capability instead of asking "is this SQLite?".
public struct StoreCapabilities: Sendable, Hashable {
    /// Cross-process wake-ups (PostgreSQL LISTEN/NOTIFY); without it wake-ups are in-process only.
    public var supportsListenNotify: Bool
    /// Concurrent claimers skip each other's locked rows (`FOR UPDATE SKIP LOCKED`).
    public var supportsSkipLocked: Bool
    /// Several Agentplane nodes may share the database.
    public var multiNode: Bool
    /// Row-level security backs up the application's tenant scoping.
    public var rowLevelSecurity: Bool
    /// The backend's name for logs and `/version`.
    public var backendName: String

    /// Creates a capability set.
    public init(
        supportsListenNotify: Bool,
        supportsSkipLocked: Bool,
        multiNode: Bool,
        rowLevelSecurity: Bool,
        backendName: String
    ) {
        self.supportsListenNotify = supportsListenNotify
        self.supportsSkipLocked = supportsSkipLocked
        self.multiNode = multiNode
        self.rowLevelSecurity = rowLevelSecurity
        self.backendName = backendName
    }
}
