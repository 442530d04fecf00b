import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// Every node hears every node's events (DESIGN §3, §4): after a transaction that appended events commits, this
/// node's bell rings at once for the tenants it wrote to, and one `NOTIFY` on the schema's event channel tells the
/// other nodes — sent after the commit (never inside the transaction, where it would serialise commits),
/// coalesced (while one is on its way, the tenants of later commits gather into the next one). The payload is
/// this node's id and the tenants; a node skips its own. The LISTEN side shares the run notifier's dedicated
/// connection; when that connection is (re)opened the bell rings for every tenant, so listeners catch up from
/// the log on what was missed while it was down. Readers still poll now and then, so nothing depends on a
/// notification arriving.
final class PostgresEventNotifier: Sendable {
    let client: PostgresClient
    let bell: EventBell
    let logger: Logger
    /// The channel, one per schema.
    let channel: String
    /// Tells this node's notifications from the others'.
    let node = UUID().uuidString.prefix(8).lowercased()
    private let sending = Mutex<(inFlight: Bool, pending: Set<TenantID>)>((false, []))

    /// The most tenants one notification names; more make it a ring for every tenant.
    static let maximumTenantsPerNotification = 150

    init(client: PostgresClient, schema: String, bell: EventBell, logger: Logger) {
        self.client = client
        self.bell = bell
        self.logger = logger
        self.channel = "agentplane_events_" + schema
        PostgresEventAppends.register(self, for: client)
    }

    /// Called after a commit that appended events for `tenants`.
    func appended(_ tenants: Set<TenantID>) {
        bell.ring(tenants)
        let start = sending.withLock { state -> Bool in
            state.pending.formUnion(tenants)
            guard !state.inFlight else { return false }
            state.inFlight = true
            return true
        }
        guard start else { return }
        Task { await self.send() }
    }

    private func send() async {
        while true {
            let tenants = sending.withLock { state -> Set<TenantID> in
                defer { state.pending = [] }
                return state.pending
            }
            if tenants.isEmpty {
                let done = sending.withLock { state -> Bool in
                    guard state.pending.isEmpty else { return false }
                    state.inFlight = false
                    return true
                }
                if done { return }
                continue
            }
            let names =
                tenants.count > Self.maximumTenantsPerNotification
                ? "*" : tenants.map(\.rawValue.uuidString).joined(separator: ",")
            let payload = "\(node)|\(names)"
            do {
                try await client.guardedQuery("SELECT pg_notify(\(channel), \(payload))", logger: logger) { _ in }
            } catch {
                logger.debug("event notification not sent", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Rings the bell for a notification another node sent.
    func heard(_ payload: String) {
        guard let bar = payload.firstIndex(of: "|"), payload[..<bar] != node else { return }
        let names = payload[payload.index(after: bar)...]
        if names == "*" { return bell.ring(nil) }
        var tenants: Set<TenantID> = []
        for name in names.split(separator: ",") {
            guard let id = UUID(uuidString: String(name)) else { continue }
            tenants.insert(TenantID(id))
        }
        if !tenants.isEmpty { bell.ring(tenants) }
    }
}

/// The tenants a transaction appended events for, collected while it runs (`PostgresEventLog.append` adds to the
/// task's collector) and handed to the store's notifier after it commits.
final class PostgresEventAppends: Sendable {
    /// The collector of the transaction the current task is running.
    @TaskLocal static var current: PostgresEventAppends?

    private let tenants = Mutex<Set<TenantID>>([])
    private static let notifiers = Mutex<[ObjectIdentifier: WeakNotifier]>([:])

    private struct WeakNotifier: @unchecked Sendable {
        weak var notifier: PostgresEventNotifier?
    }

    /// Records that the running transaction appended for `tenant`.
    func insert(_ tenant: TenantID) { _ = tenants.withLock { $0.insert(tenant) } }

    /// Hands the collected tenants, if any, to the notifier of `client` (after the commit).
    func committed(on client: PostgresClient) {
        let appended = tenants.withLock { $0 }
        guard !appended.isEmpty else { return }
        let notifier = Self.notifiers.withLock { $0[ObjectIdentifier(client)]?.notifier }
        notifier?.appended(appended)
    }

    static func register(_ notifier: PostgresEventNotifier, for client: PostgresClient) {
        notifiers.withLock { notifiers in
            notifiers = notifiers.filter { $0.value.notifier != nil }
            notifiers[ObjectIdentifier(client)] = WeakNotifier(notifier: notifier)
        }
    }
}
