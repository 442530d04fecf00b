import AgentplaneCore
import AgentplaneStore
import AgentplaneTesting
import Testing

@Suite struct APIKeyStoreConformance {
    @Test(arguments: TestBackend.allCases)
    func insertedKeysAreFoundByPrefixWithTheirEvent(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let key = Fixtures.apiKey()
            try await store.apiKeys.insert(key, event: Fixtures.event("api_key.created", subject: "api_keys/\(key.id)"))
            #expect(try await store.apiKeys.find(prefix: key.prefix)?.key == key)
            #expect(try await store.apiKeys.find(prefix: Fixtures.randomPrefix()) == nil)
            let events = try await store.events.list(tenant: key.tenantID, query: EventQuery(type: "api_key.created"))
            #expect(events.map(\.subject) == ["api_keys/\(key.id)"])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func recordUseWritesAtMostOncePerWindow(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let key = Fixtures.apiKey()
            try await store.apiKeys.insert(key, event: Fixtures.event("api_key.created"))
            let first = Timestamp(microsecondsSinceEpoch: 2_000_000_000_000_000)
            try await store.apiKeys.recordUse(id: key.id, at: first, notBefore: first)
            #expect(try await store.apiKeys.find(prefix: key.prefix)?.key.lastUsedAt == first)
            // A use inside the window does not move the mark.
            let soon = Timestamp(microsecondsSinceEpoch: first.microsecondsSinceEpoch + 1_000_000)
            try await store.apiKeys.recordUse(
                id: key.id,
                at: soon,
                notBefore: Timestamp(microsecondsSinceEpoch: soon.microsecondsSinceEpoch - 60_000_000)
            )
            #expect(try await store.apiKeys.find(prefix: key.prefix)?.key.lastUsedAt == first)
            let later = Timestamp(microsecondsSinceEpoch: first.microsecondsSinceEpoch + 120_000_000)
            try await store.apiKeys.recordUse(
                id: key.id,
                at: later,
                notBefore: Timestamp(microsecondsSinceEpoch: later.microsecondsSinceEpoch - 60_000_000)
            )
            #expect(try await store.apiKeys.find(prefix: key.prefix)?.key.lastUsedAt == later)
        }
    }
}
