import Logging
import PostgresNIO
import Synchronization

/// Sends `NOTIFY agentplane_runs` after commits that made runs claimable, coalesced: while one is in
/// flight, any number of requests make exactly one more. Never inside the enqueuing transaction, where
/// NOTIFY's commit-time lock would serialise every commit (DESIGN §8).
final class PostgresRunNotifier: Sendable {
    static let channel = "agentplane_runs"

    private struct State {
        var inFlight = false
        var pending = false
    }
    private let state = Mutex(State())
    private let client: PostgresClient
    private let logger: Logger

    init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Asks for a notification soon.
    func request() {
        let start = state.withLock { state -> Bool in
            if state.inFlight {
                state.pending = true
                return false
            }
            state.inFlight = true
            return true
        }
        guard start else { return }
        Task { await self.send() }
    }

    private func send() async {
        repeat {
            do {
                try await client.query("NOTIFY agentplane_runs", logger: logger)
            } catch {
                logger.debug("run notification not sent", metadata: ["error": "\(error)"])
            }
        } while state.withLock { state -> Bool in
            if state.pending {
                state.pending = false
                return true
            }
            state.inFlight = false
            return false
        }
    }
}
