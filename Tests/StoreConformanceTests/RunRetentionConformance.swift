import AgentplaneCore
import AgentplaneStore
import AgentplaneTesting
import Foundation
import Testing

/// Ended runs are purged with their attempts by age, on both backends: succeeded and cancelled ones
/// after the ended retention (health monitoring's after its own, shorter one), dead ones (the dead-letter list)
/// after theirs, never a run still open.
@Suite struct RunRetentionConformance {
    typealias Q = RunQueueConformance

    @Test(arguments: TestBackend.allCases)
    func retentionPurgesEndedRunsByAge(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let done = try await store.runs.enqueue([Q.new(tenant)])[0]
            let poison = try await store.runs.enqueue([Q.new(tenant, maxAttempts: 1, created: 0.1)])[0]
            let cancelled = try await store.runs.enqueue([Q.new(tenant, created: 0.2)])[0]
            let claimed = try await Q.claim(store, limit: 2)
            #expect(Set(claimed.map(\.id)) == [done.id, poison.id])
            _ = try await store.runs.complete(
                worker: "w1",
                [done.id: .succeeded(result: .null), poison.id: .failed(error: "boom", retryable: true)],
                now: Q.at(2))
            _ = try await store.runs.cancel(
                tenant: tenant, id: cancelled.id, now: Q.at(2), record: Fixtures.record(tenant))
            let open = try await store.runs.enqueue([Q.new(tenant, runAt: 1000, created: 0.3)])[0]
            #expect(try await store.runs.find(tenant: tenant, id: poison.id)?.status == .dead)

            let retention = RunRetention(endedSeconds: 10, deadSeconds: 100)
            // Nothing is old enough yet.
            #expect(try await store.runs.purge(retention, now: Q.at(11), limit: 100) == 0)
            // Past the ended retention: the succeeded and the cancelled run go, with their attempts.
            #expect(try await store.runs.purge(retention, now: Q.at(13), limit: 100) == 2)
            #expect(try await store.runs.find(tenant: tenant, id: done.id) == nil)
            #expect(try await store.runs.find(tenant: tenant, id: cancelled.id) == nil)
            #expect(try await store.runs.attempts(tenant: tenant, id: done.id).isEmpty)
            #expect(try await store.runs.find(tenant: tenant, id: poison.id)?.status == .dead)
            // Past the dead retention, in batches of the limit: the dead run goes; the open one stays.
            #expect(try await store.runs.purge(retention, now: Q.at(103), limit: 1) == 1)
            #expect(try await store.runs.find(tenant: tenant, id: poison.id) == nil)
            #expect(try await store.runs.purge(retention, now: Q.at(100_000), limit: 100) == 0)
            #expect(try await store.runs.find(tenant: tenant, id: open.id)?.status == .queued)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func healthMonitoringRunsGoAfterTheirOwnRetention(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store).id
            let probe = try await store.runs.enqueue([Q.new(tenant, kind: PlatformRuns.healthProbe)])[0]
            let sweep = try await store.runs.enqueue([Q.new(tenant, kind: PlatformRuns.healthSweep, created: 0.1)])[0]
            let failing = try await store.runs.enqueue([
                Q.new(tenant, kind: PlatformRuns.healthProbe, maxAttempts: 1, created: 0.2)
            ])[0]
            let other = try await store.runs.enqueue([Q.new(tenant, created: 0.3)])[0]
            #expect(try await Q.claim(store, limit: 4).count == 4)
            _ = try await store.runs.complete(
                worker: "w1",
                [
                    probe.id: .succeeded(result: .null), sweep.id: .succeeded(result: .null),
                    failing.id: .failed(error: "refused", retryable: true), other.id: .succeeded(result: .null),
                ],
                now: Q.at(2))

            let retention = RunRetention(endedSeconds: 100, deadSeconds: 1000, healthSeconds: 10)
            #expect(try await store.runs.purge(retention, now: Q.at(11), limit: 100) == 0)
            // Past the health retention: the succeeded probe and sweep go; the dead probe and the other run stay.
            #expect(try await store.runs.purge(retention, now: Q.at(13), limit: 100) == 2)
            #expect(try await store.runs.find(tenant: tenant, id: probe.id) == nil)
            #expect(try await store.runs.find(tenant: tenant, id: sweep.id) == nil)
            #expect(try await store.runs.attempts(tenant: tenant, id: probe.id).isEmpty)
            #expect(try await store.runs.find(tenant: tenant, id: failing.id)?.status == .dead)
            #expect(try await store.runs.find(tenant: tenant, id: other.id)?.status == .succeeded)
            // The other run keeps the ended retention, the dead probe the dead one.
            #expect(try await store.runs.purge(retention, now: Q.at(103), limit: 100) == 1)
            #expect(try await store.runs.find(tenant: tenant, id: other.id) == nil)
            #expect(try await store.runs.purge(retention, now: Q.at(1003), limit: 100) == 1)
            #expect(try await store.runs.find(tenant: tenant, id: failing.id) == nil)
            // A health retention longer than the ended one is capped by it.
            #expect(RunRetention(endedSeconds: 60, healthSeconds: 3600).healthCutoff(now: Q.at(100)) == Q.at(40))
        }
    }
}
