import AgentplaneCore
import AgentplaneStore
import AgentplaneTesting
import Testing

@Suite struct UniqueConflictConformance {
    @Test(arguments: TestBackend.allCases)
    func duplicateKeyPrefixIsTheSameStoreErrorOnBothBackends(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let key = Fixtures.apiKey()
            try await store.apiKeys.insert(key, event: Fixtures.event("api_key.created"))
            let error = await #expect(throws: StoreError.self) {
                try await store.apiKeys.insert(
                    Fixtures.apiKey(prefix: key.prefix), event: Fixtures.event("api_key.created"))
            }
            #expect(error?.kind == .uniqueViolation(.apiKeyPrefix))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func secondBootstrapKeyIsRefused(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            #expect(try await store.apiKeys.bootstrapKeyExists() == false)
            try await store.apiKeys.insert(Fixtures.apiKey(isBootstrap: true), event: Fixtures.event("api_key.created"))
            #expect(try await store.apiKeys.bootstrapKeyExists())
            let error = await #expect(throws: StoreError.self) {
                try await store.apiKeys.insert(
                    Fixtures.apiKey(isBootstrap: true), event: Fixtures.event("api_key.created"))
            }
            #expect(error?.kind == .uniqueViolation(.bootstrapKey))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func duplicateEventIDPerTenantIsAConflict(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = Fixtures.tenant()
            let event = Fixtures.event()
            _ = try await store.events.append([event], tenant: tenant)
            let error = await #expect(throws: StoreError.self) {
                _ = try await store.events.append([event], tenant: tenant)
            }
            #expect(error?.kind == .uniqueViolation(.eventID))
            // The same id in another tenant is a different event.
            _ = try await store.events.append([event], tenant: Fixtures.tenant())
        }
    }

    @Test(arguments: TestBackend.allCases)
    func storeErrorsHideDriverDetailsFromTheirDescription(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let event = Fixtures.event()
            _ = try await store.events.append([event], tenant: .platform)
            do {
                _ = try await store.events.append([event], tenant: .platform)
                Issue.record("expected a conflict")
            } catch let error as StoreError {
                let description = String(describing: error)
                #expect(!description.contains("INSERT"))
                #expect(!description.localizedCaseInsensitiveContains("sqlite"))
                #expect(!description.localizedCaseInsensitiveContains("postgres"))
                #expect(!error.underlying.isEmpty)
            }
        }
    }
}
