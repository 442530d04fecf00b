/// The rules of runs once enqueued: what a completion, a lost lease, a cancel and a replay do.
/// Both adapters apply exactly these; the jitter draw is a parameter so the rules stay pure.
public enum RunDecisions {
    /// A worker's report on a run it holds: the new state, how the attempt ended, and the event.
    public static func complete(
        _ current: Run, with completion: RunCompletion, now: Timestamp,
        jitter: Double = Double.random(in: 0..<1)
    ) -> (Run, AttemptOutcome, EventType?) {
        var next = released(current, now: now)
        switch completion {
        case .succeeded(let result):
            next.status = .succeeded
            next.result = result
            next.lastError = nil
            next.finishedAt = now
            return (next, .succeeded, .runSucceeded)
        case .failed(let error, let retryable):
            next.lastError = String(error.prefix(4000))
            return failed(next, retryable: retryable, now: now, jitter: jitter, outcome: .failed)
        case .cancelled:
            next.status = .cancelled
            next.finishedAt = now
            return (next, .cancelled, .runCancelled)
        case .handBack:
            // Unfinished at shutdown: claimable again at once, the attempt not counted.
            next.status = .queued
            next.attempt = max(current.attempt - 1, current.attemptBase)
            next.request.runAt = now
            return (next, .handedBack, .runQueued)
        }
    }

    /// A running run whose lease expired: its attempt is lost; it is claimable again at once while
    /// it has attempts left (a cancel asked meanwhile ends it `cancelled`).
    public static func rescue(_ current: Run, now: Timestamp) -> (Run, EventType) {
        var next = released(current, now: now)
        if current.cancelRequested {
            next.status = .cancelled
            next.finishedAt = now
            return (next, .runCancelled)
        }
        next.lastError = "lease expired: worker \(current.workerID ?? "?") stopped heartbeating"
        let (failed, _, event) = failed(next, retryable: true, now: now, jitter: 0, outcome: .lost, immediately: true)
        return (failed, event ?? .runFailed)
    }

    /// A cancel: queued or failed runs end at once; a running one is flagged for its worker.
    public static func cancel(_ current: Run, now: Timestamp) throws(AgentplaneError) -> (Run, EventType?) {
        var next = current
        next.updatedAt = now
        switch current.status {
        case .queued, .failed:
            next.status = .cancelled
            next.finishedAt = now
            return (next, .runCancelled)
        case .running:
            next.cancelRequested = true
            return (next, nil)
        case .succeeded, .dead, .cancelled:
            throw illegal(current.status, "cancelled", "The run has ended; it cannot be cancelled.")
        }
    }

    /// A replay of a `dead` or `failed` run: queued now, with its whole attempt budget again.
    public static func replay(_ current: Run, now: Timestamp) throws(AgentplaneError) -> (Run, EventType?) {
        guard current.status == .dead || current.status == .failed else {
            throw illegal(current.status, "queued", "Only a dead or failed run can be replayed.")
        }
        var next = current
        next.status = .queued
        next.attemptBase = current.attempt
        next.request.runAt = now
        next.finishedAt = nil
        next.cancelRequested = false
        next.updatedAt = now
        return (next, .runQueued)
    }

    private static func released(_ current: Run, now: Timestamp) -> Run {
        var next = current
        next.workerID = nil
        next.leaseExpiresAt = nil
        next.updatedAt = now
        return next
    }

    private static func failed(
        _ run: Run, retryable: Bool, now: Timestamp, jitter: Double, outcome: AttemptOutcome,
        immediately: Bool = false
    ) -> (Run, AttemptOutcome, EventType?) {
        var next = run
        guard retryable, run.hasAttemptsLeft else {
            next.status = .dead
            next.finishedAt = now
            return (next, outcome, .runDead)
        }
        next.status = .failed
        let delay =
            immediately ? 0 : run.request.backoff.delayMicroseconds(afterAttempt: run.roundAttempts, unit: jitter)
        next.request.runAt = Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch + delay)
        return (next, outcome, .runFailed)
    }

    private static func illegal(_ from: RunStatus, _ to: String, _ message: String) -> AgentplaneError {
        AgentplaneError(
            .illegalTransition, message, details: ["from": .string(from.rawValue), "to": .string(to)])
    }
}
