import AgentplaneCore
import AgentplaneStore
import AgentplaneTesting
import Foundation
import Testing

/// The retention sweep deletes events by when they were recorded, across tenants, in bounded batches, and
/// readers go on after a deleted position.
@Suite struct EventRetentionConformance {
    @Test(arguments: TestBackend.allCases)
    func purgeDeletesEventsRecordedBeforeTheCutoffInBatches(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let other = try await Fixtures.createTenant(in: store).id
            var platform: [EventPosition] = []
            for index in 0..<5 {
                platform.append(
                    try await store.events.append([NewEvent(type: "old.event\(index)")], tenant: .platform)[0].position)
            }
            _ = try await store.events.append([NewEvent(type: "old.other")], tenant: other)
            let past = Timestamp(microsecondsSinceEpoch: Timestamp.now().microsecondsSinceEpoch - 3_600_000_000)
            #expect(try await store.events.purge(recordedBefore: past, limit: 100) == 0)
            let future = Timestamp(microsecondsSinceEpoch: Timestamp.now().microsecondsSinceEpoch + 3_600_000_000)
            let before = try await store.events.list(tenant: other, query: EventQuery()).count
            #expect(try await store.events.purge(recordedBefore: future, limit: 4) == 4)
            var total = 4
            while case let purged = try await store.events.purge(recordedBefore: future, limit: 4), purged > 0 {
                total += purged
            }
            #expect(total >= 6 + before - 1)
            #expect(try await store.events.list(tenant: .platform, query: EventQuery()).isEmpty)
            #expect(try await store.events.list(tenant: other, query: EventQuery()).isEmpty)
            // Positions keep increasing after a purge; a reader after a deleted position reads what came next.
            let next = try await store.events.append([NewEvent(type: "new.event")], tenant: .platform)[0]
            #expect(next.position > platform.last!)
            let read = try await store.events.list(tenant: .platform, query: EventQuery(after: platform[1]))
            #expect(read.map(\.id) == [next.id])
        }
    }
}
