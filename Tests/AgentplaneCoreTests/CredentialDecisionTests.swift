import AgentplaneCore
import Foundation
import Testing

/// Tenant, credential and knowledge-base decisions, without a database.
@Suite struct CredentialDecisionTests {
    static let now = Timestamp(microsecondsSinceEpoch: 1_800_000_000_000_000)
    static let tenant = TenantID(UUID())

    static func principal(_ role: Role, _ scopes: [String]) -> Principal {
        Principal(
            id: UUID(), tenantID: tenant, role: role, scopes: scopes, keyPrefix: "k", subject: "api_key:k",
            tenantRequestsPerMinute: 60)
    }

    @Test func onlyAdminStarCreatesAdmins() {
        let tenantAdmin = Self.principal(.admin, ["instances:*", "service_accounts:*"])
        do {
            _ = try CredentialDecisions.createAccount(
                CreateServiceAccount(name: "ci", role: .admin, scopes: []), tenant: Self.tenant, by: tenantAdmin,
                context: EventContext(), now: Self.now)
            Issue.record("expected a refusal")
        } catch {
            #expect(error.fieldErrors.map(\.pointer) == ["/role"])
        }
        let (account, events) = try! CredentialDecisions.createAccount(
            CreateServiceAccount(name: "ci", role: .admin, scopes: ["instances:read"]), tenant: Self.tenant,
            by: Self.principal(.admin, ["admin:*"]), context: EventContext(), now: Self.now)
        #expect(account.role == .admin)
        #expect(events.map(\.type) == ["service_account.created"])
    }

    @Test func keysHoldAtMostTheirAccountsScopes() throws {
        let admin = Self.principal(.admin, ["admin:*"])
        let (account, _) = try CredentialDecisions.createAccount(
            CreateServiceAccount(name: "reader", role: .member, scopes: ["instances:read"]), tenant: Self.tenant,
            by: admin, context: EventContext(), now: Self.now)
        let token = APIKeyToken.generate()
        #expect(throws: AgentplaneError.self) {
            try CredentialDecisions.createKey(
                CreateAPIKey(scopes: ["instances:write"]), account: account, tenant: Self.tenant, token: token,
                secretHash: "h", by: admin, context: EventContext(), now: Self.now)
        }
        let (key, events) = try CredentialDecisions.createKey(
            CreateAPIKey(expiresInSeconds: 60), account: account, tenant: Self.tenant, token: token, secretHash: "h",
            by: admin, context: EventContext(), now: Self.now)
        #expect(key.scopes == ["instances:read"])
        #expect(key.expiresAt == Timestamp(microsecondsSinceEpoch: Self.now.microsecondsSinceEpoch + 60_000_000))
        #expect(events[0].data["service_account_id"] == .string(account.id.lowercasedString))
        #expect(events[0].data["prefix"] == .string(token.prefix))
    }

    @Test func apiKeyCreatedHasOneShapeWhateverMadeTheKey() throws {
        let token = APIKeyToken.generate()
        let (bootstrap, event) = CredentialDecisions.bootstrapKey(token: token, secretHash: "h", now: Self.now)
        let (cli, cliEvents) = try CredentialDecisions.createKey(
            CreateAPIKey(role: .viewer), account: nil, tenant: Self.tenant, token: APIKeyToken.generate(),
            secretHash: "h", by: .operatorCLI, context: EventContext(userID: Principal.operatorCLI.subject),
            now: Self.now)
        #expect(bootstrap.isBootstrap)
        #expect(cli.role == .viewer)
        let common: Set<String> = ["key_id", "prefix", "role", "scopes", "service_account_id"]
        #expect(Set(event.data.objectValue!.keys) == common.union(["bootstrap"]))
        #expect(Set(cliEvents[0].data.objectValue!.keys) == common.union(["created_by"]))
    }

    @Test func platformTenantCannotBeSuspendedOrDeleted() throws {
        let (platform, _) = try TenantDecisions.create(
            CreateTenant(slug: "platform", name: "Platform"), context: EventContext(), now: Self.now)
        var stored = platform
        stored.id = .platform
        #expect(throws: AgentplaneError.self) {
            try TenantDecisions.update(
                UpdateTenant(status: .suspended), current: stored, context: EventContext(), now: Self.now)
        }
        #expect(throws: AgentplaneError.self) {
            try TenantDecisions.delete(stored, context: EventContext(), now: Self.now)
        }
        let renamed = try TenantDecisions.update(
            UpdateTenant(name: "Ops", quotas: QuotaPatch(maxInstances: 3)), current: stored, context: EventContext(),
            now: Self.now)
        #expect(renamed.state.quotas.maxInstances == 3)
        #expect(renamed.state.quotas.maxTasks == stored.quotas.maxTasks)
    }

    /// The one re-queue rule: content changes re-queue finished entries; retry re-queues failed ones.
    @Test(arguments: KBEntryStatus.allCases)
    func entriesRequeueByOneRule(status: KBEntryStatus) {
        var entry = KnowledgeBaseEntry(
            id: UUID(), tenantID: Self.tenant, instanceID: UUID(), content: "a", dataType: .document,
            langHint: .other, status: status, failureReason: status == .failed ? "bad" : nil, metadata: [:],
            version: 1, createdAt: Self.now, updatedAt: Self.now)
        let onContent = try? KnowledgeBaseDecisions.requeue(entry, because: .contentChanged)
        #expect((onContent != nil) == (status == .ready || status == .failed))
        let onRetry = try? KnowledgeBaseDecisions.requeue(entry, because: .retry)
        #expect((onRetry != nil) == (status == .failed))
        entry.status = .queued
        #expect(onRetry.map { $0.failureReason == nil && $0.status == .queued } ?? true)
    }

    @Test func processingWalksQueuedToReadyOrFailed() throws {
        let instance = Instance(
            id: UUID(), tenantID: Self.tenant, agentID: UUID(), ownerUserID: "o", projectID: nil, name: "n",
            userConfig: [:], config: [:], pipelineConfig: .object([:]), status: .running, version: 1,
            createdAt: Self.now, updatedAt: Self.now)
        let (entry, created) = try KnowledgeBaseDecisions.create(
            CreateEntry(content: "hello"), in: instance, context: EventContext(), now: Self.now)
        #expect(created.map(\.type) == ["knowledge_base.entry.created"])
        let started = try KnowledgeBaseDecisions.process(entry, in: instance, context: EventContext(), now: Self.now)
        #expect(started.state.status == .processing)
        let done = try KnowledgeBaseDecisions.process(
            started.state, in: instance, context: EventContext(), now: Self.now)
        #expect(done.state.status == .ready)
        #expect(done.state.version == 3)
        #expect(done.events.map(\.type) == ["knowledge_base.entry.updated", "knowledge_base.entry.status_changed"])
    }
}
