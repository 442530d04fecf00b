import AgentplaneCore
import AgentplaneSQLite
import AgentplaneStore
import AgentplaneTesting
import Testing

/// SQLite only, adding to the conformance suite: the WAL stays bounded while readers never stop.
///
/// Continuous overlapping readers keep SQLite's automatic checkpoint from ever starting the log
/// over, so without the store's truncating checkpoint the file grows with every write. Here eight
/// readers poll without pause while two writers append; after each append a writer asks for the
/// policy's checkpoint (a `stat` while the log is below the threshold). The checkpoint must complete while
/// the readers keep reading — it holds the writers back while it waits for them — so the WAL passes the
/// threshold by at most the appends in flight when it was crossed, whatever the readers and the scheduler do.
@Suite struct SQLiteWALTests {
    @Test(.timeLimit(.minutes(2)))
    func theWALStaysBoundedUnderSustainedReadsAndWrites() async throws {
        let threshold = 1 << 20
        try await withIsolatedDatabase(.sqlite) { database in
            let store = try SQLiteStore(
                path: database.sqlitePath,
                walPolicy: WALPolicy(interval: .seconds(3600), truncateAboveBytes: threshold)
            )
            _ = try await store.migrate()
            let tenant = TenantID(UUIDv7.make())
            let payload = JSONValue.object(["text": .string(String(repeating: "x", count: 2000))])
            let writing = LockedValue(true)
            let largestWAL = LockedValue(0)
            let completed = LockedValue(0)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        while writing.withLock({ $0 }) {
                            _ = try await store.events.list(tenant: tenant, query: EventQuery(limit: 20))
                        }
                    }
                }
                group.addTask {
                    defer { writing.withLock { $0 = false } }
                    try await withThrowingTaskGroup(of: Void.self) { writers in
                        for _ in 0..<2 {
                            writers.addTask {
                                for _ in 1...500 {
                                    _ = try await store.events.append(
                                        [NewEvent(type: "load.tick", data: payload)], tenant: tenant)
                                    let size = store.walSize()
                                    largestWAL.withLock { $0 = max($0, size) }
                                    if try await store.checkpointIfNeeded() {
                                        completed.withLock { $0 += 1 }
                                    }
                                }
                            }
                        }
                        try await writers.waitForAll()
                    }
                }
                try await group.waitForAll()
            }
            // 1,000 appends of ~2 KB write about 80 MB of log here (an append commits some twenty pages: the row,
            // its indexes, the tenant's sequence); measured, 78 checkpoints completed and the WAL peaked at 1.16 MB.
            // A checkpoint that cannot finish lets it grow by a megabyte every dozen appends.
            #expect(completed.withLock { $0 } >= 10, "truncating checkpoints did not complete under load")
            let largest = largestWAL.withLock { $0 }
            #expect(largest < 2 * threshold, "the WAL reached \(largest) bytes")
            #expect(try await store.checkpoint())
            #expect(store.walSize() == 0)
        }
    }
}
