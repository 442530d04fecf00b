import AgentplaneCore
import Testing

@Suite struct LifecycleTests {
    /// Every (from, to) pair of instance states, against seed 001's table (plus `running → failed`, by health
    /// monitoring).
    static let allowed: Set<[InstanceStatus]> = [
        [.pending, .provisioning], [.provisioning, .running], [.provisioning, .failed], [.running, .stopped],
        [.running, .failed], [.stopped, .pending], [.failed, .pending],
    ]

    @Test(arguments: InstanceStatus.allCases, InstanceStatus.allCases)
    func instanceTransitionsFollowTheTable(from: InstanceStatus, to: InstanceStatus) {
        let legal = Self.allowed.contains([from, to])
        #expect(from.canTransition(to: to) == legal)
        if legal {
            #expect((try? from.transition(to: to)) == to)
        } else {
            #expect(throws: AgentplaneError.self) { try from.transition(to: to) }
        }
    }

    @Test func illegalTransitionsNameBothStates() throws {
        do {
            _ = try InstanceStatus.running.transition(to: .provisioning)
            Issue.record("expected a refusal")
        } catch {
            #expect(error.code == .illegalTransition)
            #expect(error.code.status == 409)
            #expect(error.details == ["from": "running", "to": "provisioning"])
        }
    }

    static let entryAllowed: Set<[KBEntryStatus]> = [
        [.queued, .processing], [.processing, .ready], [.processing, .failed], [.failed, .queued],
    ]

    @Test(arguments: KBEntryStatus.allCases, KBEntryStatus.allCases)
    func entryTransitionsFollowTheTable(from: KBEntryStatus, to: KBEntryStatus) {
        let legal = Self.entryAllowed.contains([from, to])
        #expect(((try? from.transition(to: to)) != nil) == legal)
    }
}

@Suite struct ConfigMergeTests {
    @Test func objectsMergeOtherValuesReplaceAndNullRemoves() {
        let defaults: [String: JSONValue] = [
            "model": "claude-3-sonnet", "temperature": .double(0.7),
            "limits": .object(["tokens": .int(1000), "rpm": .int(10)]), "tools": .array(["search"]),
        ]
        let overrides: [String: JSONValue] = [
            "temperature": .double(0.2), "limits": .object(["rpm": .int(5)]), "tools": .array(["browse"]),
            "model": .null, "custom_prompt": "Focus on B2B",
        ]
        let merged = ConfigMerge.merge(defaults: defaults, overrides: overrides)
        #expect(
            merged == [
                "temperature": .double(0.2), "limits": .object(["tokens": .int(1000), "rpm": .int(5)]),
                "tools": .array(["browse"]), "custom_prompt": "Focus on B2B",
            ]
        )
        let origins = ConfigMerge.explain(defaults: defaults, overrides: overrides)
        #expect(
            origins == [
                "temperature": .override, "limits.tokens": .agent, "limits.rpm": .override, "tools": .override,
                "custom_prompt": .override,
            ]
        )
    }

    @Test func emptyOverridesKeepTheDefaults() {
        let defaults: [String: JSONValue] = ["a": .object(["b": .int(1)])]
        #expect(ConfigMerge.merge(defaults: defaults, overrides: [:]) == defaults)
        #expect(ConfigMerge.explain(defaults: defaults, overrides: [:]) == ["a": .agent])
    }
}
