import AgentplaneCore
import Foundation
import Testing

/// Health monitoring's decisions, without a database: checks and status in, verdict, events and change out.
@Suite struct InstanceHealthDecisionTests {
    static let now = Timestamp(microsecondsSinceEpoch: 1_800_000_000_000_000)
    static let context = EventContext(correlationID: "r1", requestID: "r1", userID: "system")
    static let tenant = TenantID(UUID())
    static let instanceID = UUID()

    static func check(_ healthy: Bool, detail: String = "GET /health answered 200") -> InstanceHealthCheck {
        InstanceHealthCheck(
            id: UUIDv7.make(at: now), tenantID: tenant, instanceID: instanceID, checkedAt: now, healthy: healthy,
            latencyMs: 12, detail: detail)
    }

    /// `previous` newest first, written as a string: `u` unhealthy, `h` healthy.
    static func history(_ text: String) -> [InstanceHealthCheck] { text.map { check($0 == "h") } }

    static func instance(_ status: InstanceStatus, reason: String? = nil) -> Instance {
        Instance(
            id: instanceID, tenantID: tenant, agentID: UUID(), ownerUserID: "u", projectID: nil, name: "desk",
            userConfig: [:], config: [:], pipelineConfig: .object([:]), status: status, statusReason: reason,
            version: 4, createdAt: now, updatedAt: now)
    }

    @Test(arguments: [
        ("", 0), ("h", 0), ("u", 1), ("uuh", 2), ("uuu", 3), ("huu", 0), ("uhu", 1),
    ])
    func consecutiveFailuresCountTheHeadOfTheHistory(history: String, failures: Int) {
        #expect(InstanceHealthDecisions.consecutiveFailures(Self.history(history)) == failures)
    }

    /// (new check healthy, previous checks, changed, consecutive failures counting the new check)
    @Test(arguments: [
        (true, "", false, 0),  // the first check, healthy: no change
        (false, "", true, 1),  // the first check, unhealthy: a change
        (true, "h", false, 0), (false, "h", true, 1), (true, "u", true, 0), (false, "u", false, 2),
        (false, "uuh", false, 3), (true, "uuu", true, 0),
    ])
    func healthChangesWhenTheCheckDiffersFromTheLastOne(healthy: Bool, previous: String, changed: Bool, failures: Int) {
        let verdict = InstanceHealthDecisions.assess(
            Self.check(healthy), previous: Self.history(previous), status: .running, statusReason: nil, threshold: 9)
        #expect(verdict.healthChanged == changed)
        #expect(verdict.consecutiveFailures == failures)
        let events = InstanceHealthDecisions.events(
            verdict, check: Self.check(healthy), context: Self.context, now: Self.now)
        #expect(events.map(\.type) == (changed ? ["instance.health_changed"] : []))
    }

    /// (status, reason, new check healthy, previous checks, threshold, transition)
    @Test(arguments: [
        (InstanceStatus.running, nil as String?, false, "uu", 3, InstanceStatus.failed as InstanceStatus?),
        (.running, nil, false, "u", 3, nil),  // two in a row: below the threshold
        (.running, nil, false, "uuuu", 3, .failed),  // past it (a failed write is decided again)
        (.running, nil, false, "", 1, .failed),
        (.running, nil, true, "uu", 3, nil),
        (.failed, "health: 3 consecutive failed probes: refused", true, "uuu", 3, .pending),  // recovery
        (.failed, "health: 3 consecutive failed probes: refused", false, "uuu", 3, nil),
        (.failed, "provisioning gave up after 5 attempts", true, "u", 3, nil),  // not health's to undo
        (.failed, nil, true, "u", 3, nil),
        (.stopped, nil, false, "uuu", 3, nil), (.pending, nil, false, "uuu", 3, nil),
        (.provisioning, nil, false, "uuu", 3, nil),
    ])
    func transitionsFollowTheThresholdAndTheReason(
        status: InstanceStatus, reason: String?, healthy: Bool, previous: String, threshold: Int,
        transition: InstanceStatus?
    ) {
        let verdict = InstanceHealthDecisions.assess(
            Self.check(healthy, detail: "refused"), previous: Self.history(previous), status: status,
            statusReason: reason, threshold: threshold)
        #expect(verdict.transition == transition)
    }

    @Test func failingNamesTheCountAndTheDetailAndEmitsTheStatusChange() throws {
        let check = Self.check(false, detail: "GET http://agent/health answered 503")
        let verdict = InstanceHealthDecisions.assess(
            check, previous: Self.history("uu"), status: .running, statusReason: "ready", threshold: 3)
        let change = try #require(
            try InstanceHealthDecisions.change(
                verdict, current: Self.instance(.running), context: Self.context, now: Self.now))
        #expect(change.state.status == .failed)
        #expect(
            change.state.statusReason == "health: 3 consecutive failed probes: GET http://agent/health answered 503")
        #expect(change.state.version == 5 && change.expectedVersion == 4)
        #expect(change.events.map(\.type) == ["instance.updated", "instance.status_changed"])
        #expect(change.events[1].data["from"] == "running" && change.events[1].data["to"] == "failed")
    }

    @Test func recoveryGoesBackToPendingWithoutTheReason() throws {
        let current = Self.instance(.failed, reason: "health: 3 consecutive failed probes: refused")
        let verdict = InstanceHealthDecisions.assess(
            Self.check(true), previous: Self.history("uuu"), status: current.status, statusReason: current.statusReason,
            threshold: 3)
        let change = try #require(
            try InstanceHealthDecisions.change(verdict, current: current, context: Self.context, now: Self.now))
        #expect(change.state.status == .pending && change.state.statusReason == nil)
        #expect(change.events[1].data["from"] == "failed" && change.events[1].data["to"] == "pending")
        let events = InstanceHealthDecisions.events(
            verdict, check: Self.check(true), context: Self.context, now: Self.now)
        #expect(
            events.first?.data
                == .object([
                    "instance_id": .string(Self.instanceID.lowercasedString), "healthy": .bool(true),
                    "consecutive_failures": .int(0), "detail": .string("GET /health answered 200"),
                ]))
        #expect(events.first?.subject == "instances/\(Self.instanceID.lowercasedString)")
    }

    @Test func noTransitionIsNoChangeAndAStaleStatusIsRefused() throws {
        let quiet = InstanceHealthDecisions.assess(
            Self.check(true), previous: [], status: .running, statusReason: nil, threshold: 3)
        #expect(
            try InstanceHealthDecisions.change(
                quiet, current: Self.instance(.running), context: Self.context, now: Self.now) == nil)
        // Decided on `running`, but the instance was stopped in the meantime.
        let failing = InstanceHealthDecisions.assess(
            Self.check(false), previous: Self.history("uu"), status: .running, statusReason: nil, threshold: 3)
        #expect(throws: AgentplaneError.self) {
            _ = try InstanceHealthDecisions.change(
                failing, current: Self.instance(.stopped), context: Self.context, now: Self.now)
        }
    }

    @Test func detailsAreCutTo500Characters() {
        let check = Self.check(false, detail: String(repeating: "x", count: 2000))
        #expect(check.detail.count == InstanceHealthCheck.maximumDetailLength)
    }
}
