import AgentplaneStore
import AgentplaneTesting
import Testing

@Suite struct MigrationConformance {
    @Test(arguments: TestBackend.allCases)
    func appliesEveryMigrationOnAnEmptyDatabase(backend: TestBackend) async throws {
        try await withIsolatedDatabase(backend) { database in
            let store = try database.openStore()
            try await withRunningStore(store) { store in
                let first = try await store.migrate()
                #expect(first.applied == Array(1...store.schemaVersion))
                #expect(first.currentVersion == store.schemaVersion)
                let second = try await store.migrate()
                #expect(second.applied.isEmpty)
                #expect(second.currentVersion == store.schemaVersion)
                // The schema works after migrating: a write and a read go through.
                let appended = try await store.events.append([Fixtures.event()], tenant: .platform)
                #expect(try await store.events.latestPosition(tenant: .platform) == appended[0].position)
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func concurrentMigratorsApplyEachStepOnce(backend: TestBackend) async throws {
        try await withIsolatedDatabase(backend) { database in
            let store = try database.openStore()
            try await withRunningStore(store) { store in
                let reports = try await withThrowingTaskGroup(of: MigrationReport.self) { group in
                    for _ in 0..<4 { group.addTask { try await store.migrate() } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(reports.flatMap(\.applied).sorted() == Array(1...store.schemaVersion))
                #expect(reports.allSatisfy { $0.currentVersion == store.schemaVersion })
            }
        }
    }

    @Test func bothBackendsKnowTheSameSchemaVersion() async throws {
        let versions = try await withThrowingTaskGroup(of: Int.self) { group in
            for backend in TestBackend.allCases {
                group.addTask { try await withIsolatedDatabase(backend) { try $0.openStore().schemaVersion } }
            }
            return try await group.reduce(into: Set<Int>()) { $0.insert($1) }
        }
        #expect(versions.count == 1)
    }
}
