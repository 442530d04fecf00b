import AgentplaneCore
import AgentplaneEngine
import AgentplaneStore
import AgentplaneTesting
import Foundation
import Testing

/// The hub over a real store: fan-out, a slow subscriber cut off with its resume point while the others go on,
/// catching up from the log, and the end of every subscription at shutdown.
@Suite(.timeLimit(.minutes(2))) struct EventHubTests {
    static func append(_ store: any Store, _ type: String) async throws -> EventPosition {
        try await store.events.append([NewEvent(type: type)], tenant: .platform)[0].position
    }

    static func expectEvent(_ subscription: EventSubscription, at position: EventPosition) async throws {
        let item = try await subscription.next(timeout: .seconds(10))
        guard case .event(let event)? = item else {
            Issue.record("expected the event at \(position), got \(String(describing: item))")
            return
        }
        #expect(event.position == position)
    }

    @Test(arguments: TestBackend.allCases)
    func aSlowSubscriberIsCutOffWithItsResumePointAndNobodyElseWaits(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            var settings = EventHubSettings()
            settings.bufferLimit = 5
            let hub = EventHub(store: store, settings: settings, logger: testLogger())
            let running = Task { try await hub.run() }
            defer { running.cancel() }
            let fast = try await hub.subscribe(tenant: .platform, filter: .all, after: nil)
            let slow = try await hub.subscribe(tenant: .platform, filter: .all, after: nil)
            let filtered = try await hub.subscribe(
                tenant: .platform, filter: try EventFilter(types: ["keep.*"], subject: nil), after: nil)
            var positions: [EventPosition] = []
            for index in 0..<12 {
                positions.append(try await Self.append(store, index % 4 == 0 ? "keep.this" : "skip.this"))
                // The fast subscriber takes each event as it comes; the slow one never reads.
                try await Self.expectEvent(fast, at: positions[index])
            }
            for index in 0..<5 { try await Self.expectEvent(slow, at: positions[index]) }
            guard case .end(let reason, let resumeAfter)? = try await slow.next(timeout: .seconds(10)) else {
                Issue.record("the slow subscriber was not cut off")
                return
            }
            #expect(reason == .slowConsumer)
            #expect(resumeAfter == positions[4])
            for index in [0, 4, 8] { try await Self.expectEvent(filtered, at: positions[index]) }
            // Resuming from the cut point misses nothing and repeats nothing.
            let resumed = try await hub.subscribe(tenant: .platform, filter: .all, after: resumeAfter)
            for index in 5..<12 { try await Self.expectEvent(resumed, at: positions[index]) }
            let next = try await Self.append(store, "keep.that")
            try await Self.expectEvent(resumed, at: next)
            try await Self.expectEvent(fast, at: next)
            try await Self.expectEvent(filtered, at: next)
            #expect(hub.subscriberCount == 3)
            running.cancel()
            // Shutdown ends every subscription after what it was given, with its resume point.
            let last = try await fast.next(timeout: .seconds(10))
            guard case .end(let ending, let resume)? = last else {
                Issue.record("the subscription did not end at shutdown: \(String(describing: last))")
                return
            }
            #expect(ending == .shutdown && resume == next)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aSubscriberFarBehindCatchesUpFromTheLogThenGoesLive(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            var settings = EventHubSettings()
            settings.recentEvents = 4
            settings.page = 3
            let hub = EventHub(store: store, settings: settings, logger: testLogger())
            let running = Task { try await hub.run() }
            defer { running.cancel() }
            let start = try await store.events.latestPosition(tenant: .platform)
            let live = try await hub.subscribe(tenant: .platform, filter: .all, after: nil)
            var positions: [EventPosition] = []
            for _ in 0..<20 {
                positions.append(try await Self.append(store, "order.created"))
                try await Self.expectEvent(live, at: positions.last!)
            }
            let behind = try await hub.subscribe(tenant: .platform, filter: .all, after: start)
            for position in positions { try await Self.expectEvent(behind, at: position) }
            let next = try await Self.append(store, "order.created")
            try await Self.expectEvent(behind, at: next)
            let nothing = try await behind.next(timeout: .milliseconds(50))
            #expect(nothing == nil)
        }
    }
}
