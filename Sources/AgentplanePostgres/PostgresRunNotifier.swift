import AgentplaneStore
import Logging
import NIOSSL
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Cross-node wake-ups for the job engine (DESIGN §5, §8): after a commit that may have made runs
/// claimable, this node's workers are rung at once and one `NOTIFY` goes to the other nodes —
/// sent after the commit through the pool (never inside the enqueuing transaction, where it would
/// serialise commits), coalesced (while one is on its way, any number of further wake-ups send
/// one more, not one each). Every node LISTENs on a dedicated connection of its own (not a pooled
/// one, which the pool could not give back at shutdown) and rings its workers on each
/// notification; the connection is closed when the store stops and reopened after a failure.
/// Workers still poll (≤ 1 s), so a notification lost while reconnecting costs at most the poll.
final class PostgresRunNotifier: Sendable {
    let client: PostgresClient
    let configuration: PostgresConfiguration
    let wakeup: RunWakeup
    let logger: Logger
    /// The channel, one per schema (nodes sharing a schema share the queue).
    let channel: String
    /// The schema's name as channels carry it.
    let schemaSuffix: String
    /// The event notifier, whose channel the same connection listens on.
    var events: PostgresEventNotifier? {
        get { eventNotifier.withLock { $0 } }
        set { eventNotifier.withLock { $0 = newValue } }
    }
    private let eventNotifier = Mutex<PostgresEventNotifier?>(nil)
    private let sending = Mutex<(inFlight: Bool, again: Bool)>((false, false))

    init(client: PostgresClient, configuration: PostgresConfiguration, wakeup: RunWakeup, logger: Logger) {
        self.client = client
        self.configuration = configuration
        self.wakeup = wakeup
        self.logger = logger
        let schema = (configuration.schema ?? "public").lowercased().filter { $0.isLetter || $0.isNumber || $0 == "_" }
        self.schemaSuffix = String(schema.prefix(40))
        self.channel = "agentplane_runs_" + schemaSuffix
    }

    /// Rings this node's workers and, coalesced, the other nodes'.
    func wake() {
        wakeup.signal()
        let start = sending.withLock { state -> Bool in
            if state.inFlight {
                state.again = true
                return false
            }
            state.inFlight = true
            return true
        }
        guard start else { return }
        Task { await self.send() }
    }

    private func send() async {
        while true {
            do {
                try await client.guardedQuery("SELECT pg_notify(\(channel), '')", logger: logger) { _ in }
            } catch {
                logger.debug("run notification not sent", metadata: ["error": "\(error)"])
            }
            let more = sending.withLock { state -> Bool in
                if state.again {
                    state.again = false
                    return true
                }
                state.inFlight = false
                return false
            }
            if !more { return }
        }
    }

    /// Listens until cancelled or shut down gracefully, reconnecting after failures.
    func listen() async {
        await cancelWhenGracefulShutdown {
            var connectionID = 1_000_000
            while !Task.isCancelled {
                connectionID += 1
                do {
                    let connection = try await PostgresConnection.connect(
                        configuration: try self.connectionConfiguration(), id: connectionID, logger: self.logger)
                    do {
                        try await self.listen(on: connection)
                    } catch {
                        if !Task.isCancelled {
                            self.logger.debug("run notifications interrupted", metadata: ["error": "\(error)"])
                        }
                    }
                    try? await connection.close()
                } catch {
                    if !Task.isCancelled {
                        self.logger.debug("run notifications unavailable", metadata: ["error": "\(error)"])
                    }
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Listens on the run channel and the event channel of one connection until either ends.
    private func listen(on connection: PostgresConnection) async throws {
        let events = self.events
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await connection.listen(on: self.channel) { notifications in
                    // A listener that joins late may have missed a notification: look once.
                    self.wakeup.signal()
                    for try await _ in notifications { self.wakeup.signal() }
                }
            }
            if let events {
                group.addTask {
                    try await connection.listen(on: events.channel) { notifications in
                        // Whatever was appended while no connection listened is found by reading every log.
                        events.bell.ring(nil)
                        for try await notification in notifications { events.heard(notification.payload) }
                    }
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    private func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            switch configuration.sslMode {
            case "require": .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case "prefer": .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            default: .disable
            }
        var connection = PostgresConnection.Configuration(
            host: configuration.host, port: configuration.port, username: configuration.username,
            password: configuration.password, database: configuration.database, tls: tls)
        connection.options.additionalStartupParameters = [("application_name", "agentplane-listen \(schemaSuffix)")]
        return connection
    }
}
