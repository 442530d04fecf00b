import AgentplaneCore
import Foundation
import Testing

/// Instance and agent decisions, without a database: state in, state and events out.
@Suite struct InstanceDecisionTests {
    static let now = Timestamp(microsecondsSinceEpoch: 1_800_000_000_000_000)
    static let context = EventContext(correlationID: "r1", requestID: "r1", userID: "api_key:abc")
    static let tenant = TenantID(UUID())

    static func agent(active: Bool = true, deleted: Bool = false) -> Agent {
        Agent(
            id: UUIDv7.make(at: now), type: "support", name: "Support", description: "", category: "cs",
            defaultConfig: ["model": "small", "limits": .object(["tokens": .int(10)])], content: .object([:]),
            activationCode: nil, rate: 0, isActive: active, version: 1, createdAt: now, updatedAt: now,
            deletedAt: deleted ? now : nil)
    }

    @Test func createMergesConfigAndEmitsInstanceAndKnowledgeBaseEvents() throws {
        let agent = Self.agent()
        let command = CreateInstance(
            agentID: agent.id.lowercasedString, name: "Desk", config: ["limits": .object(["depth": .int(2)])])
        let (instance, events) = try InstanceDecisions.create(
            command, agent: agent, tenant: Self.tenant, owner: "api_key:abc", context: Self.context, now: Self.now)
        #expect(instance.status == .pending)
        #expect(instance.version == 1)
        #expect(instance.createdAt == Self.now)
        #expect(instance.config["model"] == "small")
        #expect(instance.config["limits"] == .object(["tokens": .int(10), "depth": .int(2)]))
        #expect(events.map(\.type) == ["instance.created", "knowledge_base.created"])
        #expect(events.allSatisfy { $0.time == Self.now && $0.context == Self.context })
        #expect(events[0].data["instance_id"] == .string(instance.id.lowercasedString))
    }

    /// Unknown, inactive and deleted agents get one answer, after the field errors.
    @Test(arguments: [(true, false), (false, false), (true, true)])
    func hiddenAgentsAreUnavailable(active: Bool, deleted: Bool) {
        let agent = Self.agent(active: active, deleted: deleted)
        let command = CreateInstance(agentID: agent.id.lowercasedString, name: "Desk")
        let visible = active && !deleted
        let result = Result {
            try InstanceDecisions.create(
                command, agent: agent, tenant: Self.tenant, owner: "o", context: Self.context, now: Self.now)
        }
        if visible {
            #expect((try? result.get()) != nil)
        } else {
            #expect(throws: AgentplaneError.self) { try result.get() }
            if case .failure(let error as AgentplaneError) = result { #expect(error.code == .agentUnavailable) }
        }
    }

    @Test func fieldErrorsComeFirstAndAllAtOnce() {
        let command = CreateInstance(agentID: "not-a-uuid", name: "", projectID: "")
        do {
            _ = try InstanceDecisions.create(
                command, agent: nil, tenant: Self.tenant, owner: "o", context: Self.context, now: Self.now)
            Issue.record("expected a refusal")
        } catch {
            #expect(error.code == .validationFailed)
            #expect(Set(error.fieldErrors.map(\.pointer)) == ["/agent_id", "/name", "/project_id"])
        }
    }

    @Test func updateBumpsTheVersionTheCallerRead() throws {
        let agent = Self.agent()
        let (instance, _) = try InstanceDecisions.create(
            CreateInstance(agentID: agent.id.lowercasedString, name: "Desk"), agent: agent,
            tenant: Self.tenant, owner: "o", context: Self.context, now: Self.now)
        let later = Timestamp(microsecondsSinceEpoch: Self.now.microsecondsSinceEpoch + 5)
        let change = try InstanceDecisions.update(
            UpdateInstance(name: "Desk 2", expectedVersion: 7), current: instance, agentDefaults: [:],
            context: Self.context, now: later)
        #expect(change.expectedVersion == 7)
        #expect(change.state.version == 8)
        #expect(change.state.updatedAt == later)
        #expect(change.events.map(\.type) == ["instance.updated"])
    }

    @Test func statusChangesEmitFromAndTo() throws {
        let agent = Self.agent()
        var running = try InstanceDecisions.create(
            CreateInstance(agentID: agent.id.lowercasedString, name: "Desk"), agent: agent,
            tenant: Self.tenant, owner: "o", context: Self.context, now: Self.now
        ).0
        running.status = .running
        let change = try InstanceDecisions.transition(running, to: .stopped, context: Self.context, now: Self.now)
        #expect(change.events.map(\.type) == ["instance.updated", "instance.status_changed"])
        #expect(change.events[1].data["from"] == "running")
        #expect(change.events[1].data["to"] == "stopped")
        #expect(throws: AgentplaneError.self) {
            try InstanceDecisions.transition(running, to: .provisioning, context: Self.context, now: Self.now)
        }
    }

    @Test func agentUpdatesSignalActivationCodeChanges() throws {
        let agent = Self.agent()
        let same = try AgentDecisions.update(
            .patch(AgentPatch(name: "Renamed")), current: agent, expectedVersion: nil, context: Self.context,
            now: Self.now)
        #expect(same.events.map(\.type) == ["agent.updated"])
        #expect(same.state.version == 2)
        let coded = try AgentDecisions.update(
            .patch(AgentPatch(activationCode: "OPEN-123")), current: agent, expectedVersion: nil,
            context: Self.context, now: Self.now)
        #expect(coded.events.map(\.type) == ["agent.updated", "agent.activation_code_changed"])
        // PUT resets what the draft leaves out.
        let replaced = try AgentDecisions.update(
            .replace(AgentDraft(type: "support", name: "S", category: "cs")), current: agent, expectedVersion: nil,
            context: Self.context, now: Self.now)
        #expect(replaced.state.defaultConfig.isEmpty)
        #expect(replaced.state.isActive)
    }

    @Test func tenantsSeeActiveAgentsOnly() {
        let member = Principal(
            id: UUID(), tenantID: Self.tenant, role: .member, scopes: [], keyPrefix: nil, subject: "user:x",
            tenantRequestsPerMinute: 60)
        #expect(AgentDecisions.isVisible(Self.agent(), to: member))
        #expect(!AgentDecisions.isVisible(Self.agent(active: false), to: member))
        #expect(AgentDecisions.isVisible(Self.agent(active: false), to: .system))
        #expect(!AgentDecisions.listsInactive(requested: true, by: member))
        #expect(!AgentDecisions.showsActivationCode(to: member))
    }
}
