import AgentplaneCore
import AgentplaneStore
import AgentplaneTesting
import Foundation
import Testing

/// The job queue behaves alike on both backends: claims by run-at, priority and fair share, concurrency
/// limits, dedupe, retries with backoff, dead-lettering and replay, leases and their rescue, cancels,
/// hand-backs, and only the holding worker's reports count.
@Suite struct RunQueueConformance {
    static let t0 = Timestamp(microsecondsSinceEpoch: 1_800_000_000_000_000)

    static func at(_ seconds: Double) -> Timestamp {
        Timestamp(microsecondsSinceEpoch: t0.microsecondsSinceEpoch + Int64(seconds * 1_000_000))
    }

    static func new(
        _ tenant: TenantID, kind: String = "test.noop", priority: Int = 5, runAt: Double = 0, maxAttempts: Int = 3,
        dedupe: String? = nil, window: Int = 0, key: String? = nil, limit: Int = 1, created: Double = 0
    ) -> NewRun {
        NewRun(
            kind: kind, tenantID: tenant, arguments: ["n": .int(1)], priority: priority, runAt: at(runAt),
            maxAttempts: maxAttempts, backoff: Backoff(strategy: .fixed, baseSeconds: 10, capSeconds: 10),
            dedupeKey: dedupe, dedupeWindowSeconds: window, concurrencyKey: key, concurrencyLimit: limit,
            createdAt: at(created))
    }

    static func claim(
        _ store: any Store, _ worker: String = "w1", limit: Int = 10, at seconds: Double = 1,
        lease: Double = 30, kinds: Set<String>? = nil
    ) async throws -> [Run] {
        try await store.runs.claim(
            ClaimRequest(
                workerID: worker, kinds: kinds, limit: limit, leaseMicroseconds: Int64(lease * 1_000_000),
                now: at(seconds)))
    }

    @Test(arguments: TestBackend.allCases)
    func aRunIsQueuedClaimedAndCompletedOnceWithItsAttemptAndEvents(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let queued = try await store.runs.enqueue([Self.new(tenant)])[0]
            #expect(queued.status == .queued && queued.attempt == 0)
            #expect(try await store.runs.find(tenant: tenant, id: queued.id)?.status == .queued)
            #expect(try await store.runs.find(tenant: Fixtures.tenant(), id: queued.id) == nil)

            let claimed = try await Self.claim(store)
            #expect(claimed.map(\.id) == [queued.id])
            #expect(claimed[0].status == .running && claimed[0].attempt == 1 && claimed[0].workerID == "w1")
            #expect(try await Self.claim(store, "w2").isEmpty)

            let applied = try await store.runs.complete(
                worker: "w1", [queued.id: .succeeded(result: .object(["ok": .bool(true)]))], now: Self.at(2))
            #expect(applied == [queued.id])
            let done = try #require(try await store.runs.find(tenant: tenant, id: queued.id))
            #expect(
                done.status == .succeeded && done.result == .object(["ok": .bool(true)])
                    && done.finishedAt == Self.at(2))
            // Reported twice: the second changes nothing.
            #expect(
                try await store.runs.complete(
                    worker: "w1", [queued.id: .failed(error: "x", retryable: true)], now: Self.at(3)
                )
                .isEmpty)
            let attempts = try await store.runs.attempts(tenant: tenant, id: queued.id)
            #expect(attempts.map(\.outcome) == [.succeeded])
            #expect(attempts.first?.startedAt == Self.at(1) && attempts.first?.endedAt == Self.at(2))
            let types = try await store.events.list(
                tenant: tenant, query: EventQuery(subject: "runs/\(queued.id.lowercasedString)")
            )
            .map(\.type)
            #expect(types == ["run.queued", "run.started", "run.succeeded"])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func claimsFollowRunAtThenPriorityAndOnlyTheKindsAsked(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let low = Self.new(tenant, priority: 9)
            let high = Self.new(tenant, priority: 1)
            let later = Self.new(tenant, priority: 1, runAt: 60)
            let other = Self.new(tenant, kind: "test.other", priority: 1)
            _ = try await store.runs.enqueue([low, high, later, other])
            let first = try await Self.claim(store, kinds: ["test.noop"])
            #expect(first.map(\.id) == [high.id, low.id])
            #expect(try await Self.claim(store, at: 61, kinds: ["test.noop"]).map(\.id) == [later.id])
            #expect(try await Self.claim(store, at: 61).map(\.id) == [other.id])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func withinAPriorityTenantsTakeTurns(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let busy = try await Fixtures.createTenant(in: store).id
            let quiet = try await Fixtures.createTenant(in: store).id
            _ = try await store.runs.enqueue((0..<300).map { i in Self.new(busy, created: Double(i) / 1000) })
            let single = Self.new(quiet, runAt: 0.5)
            _ = try await store.runs.enqueue([single])
            // The quiet tenant's one run comes in the first batch, behind none of the busy tenant's 300.
            let batch = try await Self.claim(store, limit: 2)
            #expect(batch.contains { $0.id == single.id })
            #expect(Set(batch.map(\.request.tenantID)) == [busy, quiet])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aConcurrencyKeyNeverRunsMoreThanItsLimitEvenUnderConcurrentClaims(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let other = try await Fixtures.createTenant(in: store).id
            _ = try await store.runs.enqueue((0..<12).map { _ in Self.new(tenant, key: "k", limit: 2) })
            // The same key in another tenant is another key.
            _ = try await store.runs.enqueue([Self.new(other, key: "k", limit: 2)])
            let claimed = try await withThrowingTaskGroup(of: [Run].self) { group in
                for worker in 0..<4 { group.addTask { try await Self.claim(store, "w\(worker)", limit: 5) } }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(claimed.filter { $0.request.tenantID == tenant }.count == 2)
            #expect(claimed.filter { $0.request.tenantID == other }.count == 1)
            #expect(Set(claimed.map(\.id)).count == claimed.count)
            #expect(try await Self.claim(store, "w9").isEmpty)
            // A slot given back lets the next run of the key start.
            let one = try #require(claimed.first { $0.request.tenantID == tenant })
            _ = try await store.runs.complete(
                worker: one.workerID!, [one.id: .succeeded(result: .null)], now: Self.at(2))
            #expect(try await Self.claim(store, "w9", at: 3).count == 1)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aDedupeKeyReturnsTheFirstRunInsideItsWindowOnly(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let first = try await store.runs.enqueue([Self.new(tenant, dedupe: "d", window: 60)])[0]
            let again = try await store.runs.enqueue([Self.new(tenant, dedupe: "d", window: 60, created: 30)])[0]
            #expect(again.id == first.id)
            let otherKind = try await store.runs.enqueue([
                Self.new(tenant, kind: "test.other", dedupe: "d", window: 60, created: 30)
            ])[0]
            #expect(otherKind.id != first.id)
            let after = try await store.runs.enqueue([Self.new(tenant, dedupe: "d", window: 60, created: 61)])[0]
            #expect(after.id != first.id)
            #expect(try await store.runs.list(tenant: tenant, query: RunQuery(kind: "test.noop")).count == 2)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func failuresBackOffThenDeadLetterAndAReplayStartsAFreshRound(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let run = try await store.runs.enqueue([Self.new(tenant, maxAttempts: 2)])[0]
            _ = try await Self.claim(store)
            _ = try await store.runs.complete(
                worker: "w1", [run.id: .failed(error: "boom 1", retryable: true)], now: Self.at(2))
            let failed = try #require(try await store.runs.find(tenant: tenant, id: run.id))
            #expect(failed.status == .failed && failed.request.runAt == Self.at(12) && failed.lastError == "boom 1")
            #expect(try await Self.claim(store, at: 11).isEmpty)
            #expect(try await Self.claim(store, at: 12).map(\.attempt) == [2])
            _ = try await store.runs.complete(
                worker: "w1", [run.id: .failed(error: "boom 2", retryable: true)], now: Self.at(13))
            let dead = try #require(try await store.runs.find(tenant: tenant, id: run.id))
            #expect(dead.status == .dead && dead.finishedAt == Self.at(13))
            let errors = try await store.runs.attempts(tenant: tenant, id: run.id).map(\.error)
            #expect(errors == ["boom 1", "boom 2"])

            let replayed = try await store.runs.replay(
                tenant: tenant, id: run.id, now: Self.at(20), record: Fixtures.record(tenant))
            #expect(replayed.status == .queued && replayed.roundAttempts == 0)
            #expect(try await Self.claim(store, at: 21).map(\.attempt) == [3])
            let replayAgain = await #expect(throws: AgentplaneError.self) {
                _ = try await store.runs.replay(
                    tenant: tenant, id: run.id, now: Self.at(22), record: Fixtures.record(tenant))
            }
            #expect(replayAgain?.code == .illegalTransition)
            // Not retryable: dead at once, attempts left or not.
            let poison = try await store.runs.enqueue([Self.new(tenant, maxAttempts: 5)])[0]
            _ = try await Self.claim(store, at: 30)
            _ = try await store.runs.complete(
                worker: "w1", [poison.id: .failed(error: "bad input", retryable: false)], now: Self.at(31))
            #expect(try await store.runs.find(tenant: tenant, id: poison.id)?.status == .dead)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func anExpiredLeaseIsRescuedAndTheOldWorkerChangesNothing(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let run = try await store.runs.enqueue([Self.new(tenant)])[0]
            _ = try await Self.claim(store, "dying", lease: 5)
            #expect(
                try await store.runs.heartbeat(worker: "dying", ids: [run.id], leaseUntil: Self.at(10), now: Self.at(4))
                    == [run.id: false])
            #expect(try await store.runs.rescueExpired(now: Self.at(9)).isEmpty)
            #expect(try await store.runs.rescueExpired(now: Self.at(11)).count == 1)
            let rescued = try #require(try await store.runs.find(tenant: tenant, id: run.id))
            #expect(rescued.status == .failed && rescued.request.runAt == Self.at(11) && rescued.workerID == nil)
            #expect(try await store.runs.attempts(tenant: tenant, id: run.id).map(\.outcome) == [.lost])
            let again = try await Self.claim(store, "alive", at: 11)
            #expect(again.map(\.attempt) == [2])
            // The dead worker comes back: its heartbeat and its completion are refused.
            #expect(
                try await store.runs.heartbeat(
                    worker: "dying", ids: [run.id], leaseUntil: Self.at(40), now: Self.at(12)
                ).isEmpty)
            #expect(
                try await store.runs.complete(worker: "dying", [run.id: .succeeded(result: .null)], now: Self.at(12))
                    .isEmpty)
            #expect(
                try await store.runs.complete(worker: "alive", [run.id: .succeeded(result: .null)], now: Self.at(13))
                    == [run.id])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func cancelsEndQueuedRunsAndReachRunningOnesThroughTheirWorker(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let waiting = try await store.runs.enqueue([Self.new(tenant, runAt: 100)])[0]
            let cancelled = try await store.runs.cancel(
                tenant: tenant, id: waiting.id, now: Self.at(1), record: Fixtures.record(tenant))
            #expect(cancelled.status == .cancelled)
            let busy = try await store.runs.enqueue([Self.new(tenant)])[0]
            _ = try await Self.claim(store)
            let flagged = try await store.runs.cancel(
                tenant: tenant, id: busy.id, now: Self.at(2), record: Fixtures.record(tenant))
            #expect(flagged.status == .running && flagged.cancelRequested)
            #expect(
                try await store.runs.heartbeat(worker: "w1", ids: [busy.id], leaseUntil: Self.at(60), now: Self.at(3))
                    == [busy.id: true])
            _ = try await store.runs.complete(worker: "w1", [busy.id: .cancelled], now: Self.at(4))
            #expect(try await store.runs.find(tenant: tenant, id: busy.id)?.status == .cancelled)
            let ended = await #expect(throws: AgentplaneError.self) {
                _ = try await store.runs.cancel(
                    tenant: tenant, id: busy.id, now: Self.at(5), record: Fixtures.record(tenant))
            }
            #expect(ended?.code == .illegalTransition)
            let missing = await #expect(throws: StoreError.self) {
                _ = try await store.runs.cancel(
                    tenant: Fixtures.tenant(), id: busy.id, now: Self.at(5), record: Fixtures.record(tenant))
            }
            #expect(missing?.kind == .notFound)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aHandBackDoesNotSpendAnAttempt(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let run = try await store.runs.enqueue([Self.new(tenant, key: "k", limit: 1)])[0]
            _ = try await Self.claim(store)
            _ = try await store.runs.complete(worker: "w1", [run.id: .handBack], now: Self.at(2))
            let back = try #require(try await store.runs.find(tenant: tenant, id: run.id))
            #expect(back.status == .queued && back.attempt == 0)
            #expect(try await store.runs.attempts(tenant: tenant, id: run.id).isEmpty)
            // Its concurrency slot came back too.
            #expect(try await Self.claim(store, "w2", at: 3).map(\.attempt) == [1])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func concurrentClaimersNeverShareARun(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenants = [
                try await Fixtures.createTenant(in: store).id, try await Fixtures.createTenant(in: store).id,
            ]
            _ = try await store.runs.enqueue((0..<120).map { i in Self.new(tenants[i % 2]) })
            let claimed = try await withThrowingTaskGroup(of: [UUID].self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        var mine: [UUID] = []
                        while true {
                            let batch = try await Self.claim(store, "w\(worker)", limit: 7)
                            if batch.isEmpty { return mine }
                            mine += batch.map(\.id)
                        }
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(claimed.count == 120)
            #expect(Set(claimed).count == 120)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aChangeEnqueuesItsRunsInItsOwnTransaction(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store)
            var record = Fixtures.record(tenant.id)
            record.runs = [Self.new(tenant.id, kind: "test.caused")]
            var renamed = tenant
            renamed.name = "Renamed"
            renamed.version = tenant.version + 1
            _ = try await store.tenants.update(renamed, expectedVersion: tenant.version, record: record)
            #expect(try await store.runs.list(tenant: tenant.id, query: RunQuery(kind: "test.caused")).count == 1)
            // A change that fails takes its runs with it.
            var stale = Fixtures.record(tenant.id)
            stale.runs = [Self.new(tenant.id, kind: "test.lost")]
            await #expect(throws: (any Error).self) {
                _ = try await store.tenants.update(renamed, expectedVersion: tenant.version, record: stale)
            }
            #expect(try await store.runs.list(tenant: tenant.id, query: RunQuery(kind: "test.lost")).isEmpty)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func badRunsAreRefusedNamingTheField(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            var bad = Self.new(tenant)
            bad.priority = 10
            bad.kind = "Not A Kind"
            bad.dedupeWindowSeconds = -1
            let error = await #expect(throws: AgentplaneError.self) { _ = try await store.runs.enqueue([bad]) }
            #expect(Set(error?.fieldErrors.map(\.pointer) ?? []) == ["priority", "kind", "dedupe_window_seconds"])
            #expect(try await store.runs.list(tenant: tenant, query: RunQuery()).isEmpty)
        }
    }
}
