import AgentplaneCore
import AgentplaneStore
import AgentplaneTesting
import Foundation
import Testing

/// Tenants, service accounts and their keys, and the audit log behave alike on both backends.
@Suite struct TenancyConformance {
    static func account(_ tenant: TenantID, name: String) -> ServiceAccount {
        ServiceAccount(
            id: UUIDv7.make(), tenantID: tenant, name: name, description: "", role: .member,
            scopes: ["events:read"], createdAt: .now())
    }

    static func key(of account: ServiceAccount) -> APIKeyRecord {
        var key = Fixtures.apiKey(tenant: account.tenantID)
        key.serviceAccountID = account.id
        return key
    }

    /// `count` new ids in the order the stores list by id: UUIDv7 orders by time only to the millisecond.
    static func orderedIDs(_ count: Int) -> [UUID] {
        (0..<count).map { _ in UUIDv7.make() }.sorted { $0.lowercasedString < $1.lowercasedString }
    }

    @Test(arguments: TestBackend.allCases)
    func tenantsAreListedUpdatedAndDeleted(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            // Listed by id, and UUIDv7 orders by time only to the millisecond: name them in that order.
            let one = try await Fixtures.createTenant(in: store)
            let two = try await Fixtures.createTenant(in: store)
            let sorted = [one, two].sorted { $0.id.description < $1.id.description }
            let (first, second) = (sorted[0], sorted[1])
            let all = try await store.tenants.list(after: nil, limit: 1000).map(\.id)
            #expect(all.filter { [first.id, second.id].contains($0) } == [first.id, second.id])
            let afterFirst = try await store.tenants.list(after: first.id, limit: 1000).map(\.id)
            #expect(afterFirst.contains(second.id) && !afterFirst.contains(first.id))
            #expect(try await store.tenants.list(after: nil, limit: 1).count == 1)

            var changed = first
            changed.name = "Renamed"
            changed.status = .suspended
            changed.quotas.maxInstances = 7
            let saved = try await store.tenants.update(changed, expectedVersion: 1, record: Fixtures.record(first.id))
            #expect(saved.version == 2)
            let found = try #require(try await store.tenants.find(id: first.id))
            #expect(found.name == "Renamed" && found.status == .suspended && found.quotas.maxInstances == 7)
            #expect(found.version == 2 && found.slug == first.slug)
            let stale = await #expect(throws: StoreError.self) {
                _ = try await store.tenants.update(changed, expectedVersion: 1, record: Fixtures.record(first.id))
            }
            #expect(stale?.kind == .staleVersion)

            // Deleting revokes the tenant's keys and hides it everywhere; its id is not reused.
            let key = Fixtures.apiKey(tenant: second.id)
            try await store.apiKeys.insert(key, event: Fixtures.event("api_key.created"))
            try await store.tenants.delete(id: second.id, at: .now(), record: Fixtures.record(second.id))
            #expect(try await store.tenants.find(id: second.id) == nil)
            #expect(try await store.tenants.find(slug: second.slug) == nil)
            #expect(!(try await store.tenants.list(after: nil, limit: 1000).map(\.id)).contains(second.id))
            let revoked = try await store.apiKeys.find(prefix: key.prefix)
            #expect(revoked == nil || revoked?.key.revokedAt != nil || revoked?.tenant == nil)
            let again = await #expect(throws: StoreError.self) {
                try await store.tenants.delete(id: second.id, at: .now(), record: Fixtures.record(second.id))
            }
            #expect(again?.kind == .notFound)
            var gone = second
            gone.name = "Ghost"
            let missing = await #expect(throws: StoreError.self) {
                _ = try await store.tenants.update(gone, expectedVersion: 1, record: Fixtures.record(second.id))
            }
            #expect(missing?.kind == .notFound)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func serviceAccountsKeepTheirKeysAndDeletingOneRevokesThem(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store)
            let other = try await Fixtures.createTenant(in: store)
            let ids = Self.orderedIDs(4)
            var bot = Self.account(tenant.id, name: "bot")
            bot.id = ids[0]
            var ops = Self.account(tenant.id, name: "ops")
            ops.id = ids[1]
            for account in [bot, ops] {
                try await store.serviceAccounts.create(account, record: Fixtures.record(tenant.id))
            }
            #expect(try await store.serviceAccounts.list(tenant: tenant.id).map(\.name) == ["bot", "ops"])
            #expect(try await store.serviceAccounts.list(tenant: other.id).isEmpty)
            #expect(try await store.serviceAccounts.find(tenant: tenant.id, id: bot.id)?.name == "bot")
            #expect(try await store.serviceAccounts.find(tenant: other.id, id: bot.id) == nil)

            // Newest first means by id, descending.
            var older = Self.key(of: bot)
            older.id = ids[2]
            var newer = Self.key(of: bot)
            newer.id = ids[3]
            for key in [older, newer] {
                try await store.serviceAccounts.createKey(key, record: Fixtures.record(tenant.id))
            }
            #expect(
                try await store.serviceAccounts.listKeys(tenant: tenant.id, account: bot.id).map(\.id) == [
                    newer.id, older.id,
                ])
            #expect(try await store.serviceAccounts.listKeys(tenant: other.id, account: bot.id).isEmpty)
            // A key for an account of another tenant is refused.
            var foreign = Self.key(of: bot)
            foreign.tenantID = other.id
            let refused = await #expect(throws: StoreError.self) {
                try await store.serviceAccounts.createKey(foreign, record: Fixtures.record(other.id))
            }
            #expect(refused?.kind == .notFound)

            try await store.serviceAccounts.revokeKey(
                tenant: tenant.id, account: bot.id, key: older.id, at: .now(), record: Fixtures.record(tenant.id))
            let keys = try await store.serviceAccounts.listKeys(tenant: tenant.id, account: bot.id)
            #expect(keys.first { $0.id == older.id }?.revokedAt != nil)
            #expect(keys.first { $0.id == newer.id }?.revokedAt == nil)
            let twice = await #expect(throws: StoreError.self) {
                try await store.serviceAccounts.revokeKey(
                    tenant: tenant.id, account: bot.id, key: older.id, at: .now(), record: Fixtures.record(tenant.id))
            }
            #expect(twice?.kind == .notFound)

            try await store.serviceAccounts.delete(
                tenant: tenant.id, id: bot.id, at: .now(), record: Fixtures.record(tenant.id))
            #expect(try await store.serviceAccounts.find(tenant: tenant.id, id: bot.id) == nil)
            #expect(try await store.serviceAccounts.list(tenant: tenant.id).map(\.name) == ["ops"])
            #expect(try await store.apiKeys.find(prefix: newer.prefix)?.key.revokedAt != nil)
            let gone = await #expect(throws: StoreError.self) {
                try await store.serviceAccounts.delete(
                    tenant: tenant.id, id: bot.id, at: .now(), record: Fixtures.record(tenant.id))
            }
            #expect(gone?.kind == .notFound)
            // The name is free again once its account is deleted.
            try await store.serviceAccounts.create(
                Self.account(tenant.id, name: "bot"), record: Fixtures.record(tenant.id))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func auditEntriesAreListedNewestFirstAndFiltered(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = Fixtures.tenant()
            let other = Fixtures.tenant()
            let base = Timestamp.now().microsecondsSinceEpoch
            var entries: [AuditEntry] = []
            for (index, (operation, outcome, principal)) in [
                ("createThing", AuditOutcome.success, "api_key:a"),
                ("createThing", .failure, "api_key:b"),
                ("deleteThing", .success, "api_key:a"),
                ("deleteThing", .failure, "user:x"),
            ].enumerated() {
                var entry = Fixtures.audit(tenant, operation: operation)
                entry.outcome = outcome
                entry.principalID = principal
                entry.occurredAt = Timestamp(microsecondsSinceEpoch: base + Int64(index) * 1000)
                entries.append(entry)
                try await store.auditLog.append(entry)
            }
            try await store.auditLog.append(Fixtures.audit(other, operation: "createThing"))

            let ids = { (query: AuditQuery) in try await store.auditLog.list(tenant: tenant, query: query).map(\.id) }
            #expect(try await ids(AuditQuery()) == entries.reversed().map(\.id))
            #expect(try await ids(AuditQuery(operation: "createThing")) == [entries[1].id, entries[0].id])
            #expect(try await ids(AuditQuery(outcome: .failure)) == [entries[3].id, entries[1].id])
            #expect(try await ids(AuditQuery(principalID: "api_key:a")) == [entries[2].id, entries[0].id])
            #expect(try await ids(AuditQuery(operation: "deleteThing", outcome: .success)) == [entries[2].id])
            #expect(try await ids(AuditQuery(limit: 2)) == [entries[3].id, entries[2].id])
            #expect(
                try await ids(AuditQuery(before: entries[2].id.lowercasedString, limit: 10))
                    == [entries[1].id, entries[0].id])
            // Without a tenant: every tenant's entries (platform admins).
            let everyone = try await store.auditLog.list(tenant: nil, query: AuditQuery(limit: 1000))
            #expect(Set(everyone.map(\.tenantID)).isSuperset(of: [tenant, other]))
            #expect(try await store.auditLog.list(tenant: other, query: AuditQuery()).count == 1)
        }
    }

    /// A refresh token works once; presenting a used one revokes its whole family, the new one included.
    @Test(arguments: TestBackend.allCases)
    func refreshTokensRotateAndReuseRevokesTheFamily(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = try await Fixtures.createTenant(in: store)
            let user = User(
                id: UUIDv7.make(), email: "ada-\(Fixtures.randomPrefix())@example.com", name: "Ada",
                passwordHash: "x", isPlatformAdmin: false, createdAt: .now())
            try await store.identity.createUser(
                user, memberships: [Membership(userID: user.id, tenantID: tenant.id, role: .admin)],
                event: Fixtures.event("user.created"))
            #expect(try await store.identity.memberships(of: user.id).map(\.role) == [.admin])
            let now = Timestamp.now()
            let later = Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch + 3_600_000_000)
            @Sendable func token(_ hash: String, family: UUID) -> RefreshToken {
                RefreshToken(
                    id: UUIDv7.make(), familyID: family, userID: user.id, tenantID: tenant.id, tokenHash: hash,
                    createdAt: now, expiresAt: later)
            }
            let expired = Timestamp(microsecondsSinceEpoch: later.microsecondsSinceEpoch + 1)
            let family = UUIDv7.make()
            try await store.identity.insertRefreshToken(token("h1", family: family))
            let rotated = try await store.identity.rotateRefreshToken(
                hash: "h1", replacement: { old in token("h2", family: old.familyID) }, now: now)
            #expect(rotated?.tokenHash == "h1")
            // h1 again: theft. Nothing is handed out, and h2 (same family) stops working too.
            let reused = try await store.identity.rotateRefreshToken(
                hash: "h1", replacement: { old in token("h3", family: old.familyID) }, now: now)
            #expect(reused == nil)
            let afterTheft = try await store.identity.rotateRefreshToken(
                hash: "h2", replacement: { old in token("h4", family: old.familyID) }, now: now)
            #expect(afterTheft == nil)
            // Another family is untouched; an expired token and an unknown one give nothing.
            try await store.identity.insertRefreshToken(token("k1", family: UUIDv7.make()))
            #expect(
                try await store.identity.rotateRefreshToken(
                    hash: "k1", replacement: { old in token("k2", family: old.familyID) }, now: expired) == nil)
            try await store.identity.insertRefreshToken(token("m1", family: UUIDv7.make()))
            #expect(
                try await store.identity.rotateRefreshToken(
                    hash: "m1", replacement: { old in token("m2", family: old.familyID) }, now: now) != nil)
            #expect(
                try await store.identity.rotateRefreshToken(
                    hash: "unknown", replacement: { old in token("u2", family: old.familyID) }, now: now) == nil)
        }
    }
}
