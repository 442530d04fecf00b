import AgentplaneCore
import Foundation
import Testing

@Suite struct RunDecisionTests {
    static let now = Timestamp(microsecondsSinceEpoch: 1_000_000_000_000)

    static func running(attempt: Int = 1, maxAttempts: Int = 3, backoff: Backoff = .default) -> Run {
        let request = NewRun(
            kind: "test.noop", tenantID: TenantID(UUID()), runAt: now, maxAttempts: maxAttempts, backoff: backoff,
            createdAt: now)
        return Run(
            request: request, status: .running, attempt: attempt, workerID: "w", leaseExpiresAt: now,
            cancelRequested: false, result: nil, lastError: nil, updatedAt: now, finishedAt: nil)
    }

    @Test(arguments: [
        (BackoffStrategy.fixed, [2.0, 2.0, 2.0, 2.0]),
        (.linear, [2.0, 4.0, 6.0, 7.0]),
        (.exponential, [2.0, 4.0, 7.0, 7.0]),
    ])
    func backoffsGrowAsTheirStrategySaysUpToTheCap(strategy: BackoffStrategy, seconds: [Double]) {
        let backoff = Backoff(strategy: strategy, baseSeconds: 2, capSeconds: 7)
        let delays = (1...4).map { Double(backoff.delayMicroseconds(afterAttempt: $0, unit: 0.5)) / 1_000_000 }
        #expect(delays == seconds)
    }

    @Test func exponentialJitterStaysInTheUpperHalfOfTheCappedDelay() {
        let backoff = Backoff(strategy: .exponentialJitter, baseSeconds: 1, capSeconds: 60)
        #expect(backoff.delayMicroseconds(afterAttempt: 3, unit: 0) == 2_000_000)
        #expect(backoff.delayMicroseconds(afterAttempt: 3, unit: 1) == 4_000_000)
        #expect(backoff.delayMicroseconds(afterAttempt: 30, unit: 0) == 30_000_000)
        // A huge attempt number neither overflows nor passes the cap.
        #expect(backoff.delayMicroseconds(afterAttempt: 10_000, unit: 1) == 60_000_000)
    }

    @Test func aFailureWithAttemptsLeftWaitsItsBackoffAndWithoutThemIsDead() {
        let backoff = Backoff(strategy: .fixed, baseSeconds: 5, capSeconds: 5)
        let (retry, outcome, event) = RunDecisions.complete(
            Self.running(attempt: 1, maxAttempts: 2, backoff: backoff), with: .failed(error: "x", retryable: true),
            now: Self.now)
        #expect(retry.status == .failed && outcome == .failed && event == .runFailed)
        #expect(retry.request.runAt.microsecondsSinceEpoch == Self.now.microsecondsSinceEpoch + 5_000_000)
        #expect(retry.workerID == nil && retry.leaseExpiresAt == nil && retry.lastError == "x")
        let (dead, _, deadEvent) = RunDecisions.complete(
            Self.running(attempt: 2, maxAttempts: 2), with: .failed(error: "y", retryable: true), now: Self.now)
        #expect(dead.status == .dead && deadEvent == .runDead && dead.finishedAt == Self.now)
        let (poison, _, _) = RunDecisions.complete(
            Self.running(attempt: 1, maxAttempts: 9), with: .failed(error: "z", retryable: false), now: Self.now)
        #expect(poison.status == .dead)
    }

    @Test func aHandBackGivesTheAttemptBack() {
        let (back, outcome, event) = RunDecisions.complete(Self.running(attempt: 2), with: .handBack, now: Self.now)
        #expect(back.status == .queued && back.attempt == 1 && outcome == .handedBack && event == .runQueued)
    }

    @Test func aLostLeaseIsRetriedAtOnceUnlessCancelWasAsked() {
        let (rescued, event) = RunDecisions.rescue(Self.running(attempt: 1), now: Self.now)
        #expect(rescued.status == .failed && rescued.request.runAt == Self.now && event == .runFailed)
        #expect(rescued.lastError?.contains("lease expired") == true)
        var flagged = Self.running()
        flagged.cancelRequested = true
        #expect(RunDecisions.rescue(flagged, now: Self.now).0.status == .cancelled)
        #expect(RunDecisions.rescue(Self.running(attempt: 3, maxAttempts: 3), now: Self.now).0.status == .dead)
    }

    @Test(arguments: RunStatus.allCases)
    func cancelAndReplayFollowTheLifecycle(status: RunStatus) {
        var run = Self.running()
        run.status = status
        let cancel = Result { () throws(AgentplaneError) in try RunDecisions.cancel(run, now: Self.now) }
        switch status {
        case .queued, .failed: #expect((try? cancel.get())?.0.status == .cancelled)
        case .running: #expect((try? cancel.get())?.0.cancelRequested == true)
        case .succeeded, .dead, .cancelled: #expect(throws: AgentplaneError.self) { try cancel.get() }
        }
        let replay = Result { () throws(AgentplaneError) in try RunDecisions.replay(run, now: Self.now) }
        if status == .dead || status == .failed {
            let replayed = try? replay.get().0
            #expect(replayed?.status == .queued && replayed?.roundAttempts == 0 && replayed?.hasAttemptsLeft == true)
        } else {
            #expect(throws: AgentplaneError.self) { try replay.get() }
        }
    }

    @Test func runRequestsNameEveryBadField() {
        var run = NewRun(kind: "ok.kind-1_x", tenantID: TenantID(UUID()), runAt: Self.now, createdAt: Self.now)
        #expect(run.errors().isEmpty)
        run.kind = ""
        run.priority = 0
        run.maxAttempts = 0
        run.dedupeWindowSeconds = -1
        run.dedupeKey = ""
        run.concurrencyKey = String(repeating: "k", count: 201)
        run.concurrencyLimit = 0
        run.backoff = Backoff(strategy: .fixed, baseSeconds: -1, capSeconds: -2)
        #expect(
            Set(run.errors().map(\.pointer)) == [
                "kind", "priority", "max_attempts", "dedupe_window_seconds", "dedupe_key", "concurrency_key",
                "concurrency_limit", "backoff_base_seconds", "backoff_cap_seconds",
            ])
        #expect(!NewRun.isValidKind("Upper"))
        #expect(!NewRun.isValidKind(String(repeating: "a", count: 101)))
    }
}
