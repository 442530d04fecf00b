import AgentplaneCore
import AgentplaneEngine
import AgentplaneStore
import AgentplaneTesting
import Testing

@Suite struct IdempotencyConformance {
    static func scope(_ key: String) -> IdempotencyScope {
        IdempotencyScope(tenantID: .platform, principalID: "p", key: key)
    }

    @Test(arguments: TestBackend.allCases)
    func oneClaimWinsThenTheResponseIsKept(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let now = Timestamp(microsecondsSinceEpoch: 2_000_000_000_000_000)
            let later = Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch + 86_400_000_000)
            #expect(
                try await store.idempotency.claim(Self.scope("k"), fingerprint: "f1", now: now, expiresAt: later) == nil
            )
            let pending = try await store.idempotency.claim(
                Self.scope("k"), fingerprint: "f1", now: now, expiresAt: later)
            #expect(pending != nil && pending?.response == nil)
            let response = StoredResponse(
                status: 201, headers: ["Content-Type": "application/json"], body: Array("{}".utf8))
            try await store.idempotency.complete(Self.scope("k"), response: response)
            let done = try await store.idempotency.claim(Self.scope("k"), fingerprint: "f2", now: now, expiresAt: later)
            #expect(done == IdempotencyRecord(fingerprint: "f1", response: response, expiresAt: later))
            // A released claim can be taken again; an expired record is replaced.
            #expect(
                try await store.idempotency.claim(Self.scope("r"), fingerprint: "f", now: now, expiresAt: later) == nil)
            try await store.idempotency.release(Self.scope("r"))
            #expect(
                try await store.idempotency.claim(Self.scope("r"), fingerprint: "f", now: now, expiresAt: later) == nil)
            let afterExpiry = Timestamp(microsecondsSinceEpoch: later.microsecondsSinceEpoch + 1)
            #expect(
                try await store.idempotency.claim(
                    Self.scope("k"), fingerprint: "f3", now: afterExpiry, expiresAt: afterExpiry) == nil)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func theSweeperDeletesOnlyExpiredRecordsInBatches(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let now = Timestamp(microsecondsSinceEpoch: 2_000_000_000_000_000)
            for index in 0..<5 {
                let expiry = Timestamp(
                    microsecondsSinceEpoch: now.microsecondsSinceEpoch + (index < 3 ? -1 : 1_000_000))
                _ = try await store.idempotency.claim(
                    Self.scope("k\(index)"), fingerprint: "f", now: now, expiresAt: expiry)
            }
            let sweeper = IdempotencyKeySweeper(store: store, batchSize: 2, logger: testLogger())
            #expect(try await sweeper.runOnce(now: now) == 3)
            #expect(try await sweeper.runOnce(now: now) == 0)
            // The live ones are still held.
            let live = try await store.idempotency.claim(Self.scope("k4"), fingerprint: "f", now: now, expiresAt: now)
            #expect(live != nil)
        }
    }
}
