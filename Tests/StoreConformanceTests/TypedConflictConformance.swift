import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import AgentplaneTesting
import Foundation
import Testing

/// Every unique rule reaches the layers above as its own typed case, the same on both backends, and
/// the use cases turn each into the 409 naming the field.
@Suite struct TypedConflictConformance {
    static let caller = Caller(principal: .system, operation: "test")

    static func record(_ tenant: TenantID) -> ChangeRecord {
        caller.record(AuditedResource(tenant: tenant, type: "test", id: nil), status: 201, events: [], at: .now())
    }

    static func conflict(_ body: () async throws -> Void) async -> StoreError.Kind? {
        do {
            try await body()
            Issue.record("expected a unique violation")
            return nil
        } catch let error as StoreError {
            return error.kind
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    @Test(arguments: TestBackend.allCases)
    func eachUniquenessIsItsOwnCase(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let now = Timestamp.now()
            let (tenant, _) = try TenantDecisions.create(
                CreateTenant(slug: "acme", name: "Acme"), context: EventContext(), now: now)
            try await store.tenants.create(tenant, record: Self.record(tenant.id))
            let (twin, _) = try TenantDecisions.create(
                CreateTenant(slug: "acme", name: "Acme 2"), context: EventContext(), now: now)
            #expect(
                await Self.conflict { try await store.tenants.create(twin, record: Self.record(twin.id)) }
                    == .uniqueViolation(.tenantSlug))

            let principal = Principal(
                id: UUID(), tenantID: tenant.id, role: .admin, scopes: ["admin:*"], keyPrefix: nil,
                subject: "test", tenantRequestsPerMinute: 60)
            func account() throws -> ServiceAccount {
                try CredentialDecisions.createAccount(
                    CreateServiceAccount(name: "ci"), tenant: tenant.id, by: principal, context: EventContext(),
                    now: now
                ).0
            }
            try await store.serviceAccounts.create(try account(), record: Self.record(tenant.id))
            let second = try account()
            #expect(
                await Self.conflict { try await store.serviceAccounts.create(second, record: Self.record(tenant.id)) }
                    == .uniqueViolation(.serviceAccountName))

            func agent(type: String, code: String?) throws -> Agent {
                try AgentDecisions.create(
                    AgentDraft(type: type, name: type, category: "cs", activationCode: code), context: EventContext(),
                    now: now
                ).0
            }
            try await store.agents.create(try agent(type: "support", code: "OPEN-1"), record: Self.record(.platform))
            let sameType = try agent(type: "support", code: nil)
            let sameCode = try agent(type: "sales", code: "OPEN-1")
            #expect(
                await Self.conflict { try await store.agents.create(sameType, record: Self.record(.platform)) }
                    == .uniqueViolation(.agentType))
            #expect(
                await Self.conflict { try await store.agents.create(sameCode, record: Self.record(.platform)) }
                    == .uniqueViolation(.agentActivationCode))

            let useCases = UseCases(store: store, passwords: PasswordHasher(cost: 4))
            let user = CreateUser(
                email: "Ada@Example.com", name: "Ada", password: "correct horse battery", tenantSlug: "acme",
                role: .member, platformAdmin: false)
            _ = try await useCases.createUser(user, by: .operatorCLI("test"))
            do {
                _ = try await useCases.createUser(user, by: .operatorCLI("test"))
                Issue.record("expected a conflict")
            } catch let error as AgentplaneError {
                #expect(error.code == .conflict)
                #expect(error.fieldErrors.map(\.pointer) == ["/email"])
            }
            do {
                _ = try await useCases.createTenant(CreateTenant(slug: "acme", name: "Again"), by: Self.caller)
                Issue.record("expected a conflict")
            } catch let error as AgentplaneError {
                #expect(error.code == .conflict)
                #expect(error.fieldErrors.map(\.pointer) == ["/slug"])
            }
        }
    }
}
