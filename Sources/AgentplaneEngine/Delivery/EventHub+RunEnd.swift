import AgentplaneCore
import AgentplaneStore

extension EventHub {
    /// Waits up to `timeout` for `run` to end for good, and answers it as stored then (or, past the timeout or when
    /// this node shuts down, as it is). The wait listens for the run's final `run.*` event through this hub, so any
    /// number of waiting callers of a tenant cost the hub's one log read per append plus one read of their own run
    /// when it ends — not a read of every waiting run at every commit of the tenant. The run is read once after
    /// subscribing (it may have ended before) and again after every `recheck` of silence (should its final event
    /// no longer be in the log).
    public func awaitEnd(of run: Run, timeout: Duration, recheck: Duration = .seconds(5)) async throws -> Run {
        let tenant = run.request.tenantID
        let filter = try EventFilter(types: InstanceRuns.finalEventTypes, subject: "runs/\(run.id.lowercasedString)")
        // A node shutting down takes no new subscriptions; the run is accepted all the same and goes on (on another
        // node if need be), so the caller gets it as it is (a 202 with its location), not an error that invites a
        // second run.
        let subscription: EventSubscription?
        do {
            subscription = try await subscribe(tenant: tenant, filter: filter, after: nil)
        } catch let error as AgentplaneError where error.code == .shuttingDown {
            subscription = nil
        }
        defer { subscription?.cancel() }
        let deadline = ContinuousClock.now + timeout
        var cutOff = subscription == nil
        while true {
            guard let current = try await store.runs.find(tenant: tenant, id: run.id) else {
                throw AgentplaneError(.notFound, "No such run.")
            }
            let left = deadline - ContinuousClock.now
            if current.status.isFinal || cutOff || left <= .zero || Task.isCancelled { return current }
            if case .end? = try await subscription?.next(timeout: min(left, recheck)) { cutOff = true }
        }
    }
}
