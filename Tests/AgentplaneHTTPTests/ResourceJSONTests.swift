import AgentplaneAPI
import AgentplaneCore
import Foundation
import Testing

@testable import AgentplaneHTTP

/// The bodies `ResourceJSON` and `EventPageBody` write by hand must be byte for byte what the
/// generated encoder writes (configured as `HTTPRouter` configures it).
@Suite struct ResourceJSONTests {
    static func generated(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let transcoder = MicrosecondDateTranscoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(try transcoder.encode(date))
        }
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static let awkward: [String: JSONValue] = [
        "temperature": .double(0.3), "whole": .double(5), "tiny": .double(1e-7), "huge": .double(1e300),
        "negative": .double(-2.5), "count": .int(-42), "big": .int(Int64.max), "flag": .bool(true), "none": .null,
        "text": .string("quote \" backslash \\ slash / newline \n tab \t bell \u{07} nul-free é 😀"),
        "list": .array([.int(1), .string("two"), .array([]), .object([:]), .null]),
        "nested": .object(["b": .int(2), "a": .object(["z": .bool(false), "y": .string("")])]),
        "Zeta": .string("capitals sort first"), "_under": .int(0),
    ]

    static func instances() -> [Instance] {
        let tenant = TenantID(UUID())
        let agent = UUIDv7.make()
        return [
            Instance(
                id: UUIDv7.make(), tenantID: tenant, agentID: agent, ownerUserID: "user:\"o'brien\"", projectID: nil,
                name: "plain", userConfig: [:], config: [:], pipelineConfig: .null, status: .pending, version: 1,
                createdAt: Timestamp(microsecondsSinceEpoch: 0), updatedAt: Timestamp(microsecondsSinceEpoch: 1)),
            Instance(
                id: UUIDv7.make(), tenantID: tenant, agentID: agent, ownerUserID: "u", projectID: "proj/1",
                name: "naïve \u{1F} name", userConfig: awkward, config: awkward.merging(["model": "m"]) { $1 },
                pipelineConfig: .object(["steps": .array([.object(["tool": "search", "retries": .int(3)])])]),
                status: .running, version: 9_007_199_254_740_993,
                createdAt: Timestamp(microsecondsSinceEpoch: 1_764_547_200_123_456),
                updatedAt: Timestamp(microsecondsSinceEpoch: 4_102_444_799_999_999)),
        ]
    }

    @Test func anInstanceIsWrittenAsTheGeneratedEncoderWritesIt() throws {
        for instance in Self.instances() {
            let mine = String(decoding: ResourceJSON.render(instance), as: UTF8.self)
            #expect(mine == (try Self.generated(Components.Schemas.Instance(instance))))
        }
    }

    @Test func aPageOfInstancesIsWrittenAsTheGeneratedEncoderWritesIt() throws {
        let instances = Self.instances()
        for cursor in [nil, "0190f3c2-0000-7000-8000-000000000000:name"] {
            let mine = String(decoding: ResourceJSON.render(instances, nextCursor: cursor), as: UTF8.self)
            let typed = Components.Schemas.InstancePage(
                instances: instances.map(Components.Schemas.Instance.init), nextCursor: cursor)
            #expect(mine == (try Self.generated(typed)))
        }
        let empty = String(decoding: ResourceJSON.render([Instance](), nextCursor: nil), as: UTF8.self)
        #expect(empty == (try Self.generated(Components.Schemas.InstancePage(instances: []))))
    }

    @Test func entriesAreWrittenAsTheGeneratedEncoderWritesThem() throws {
        let instance = Self.instances()[1]
        let entries = [
            KnowledgeBaseEntry(
                id: UUIDv7.make(), tenantID: instance.tenantID, instanceID: instance.id,
                content: "Refunds \"within\" 14 days\n\\ é", dataType: .video, langHint: .es, status: .failed,
                failureReason: "the content has no words to index", metadata: Self.awkward, version: 3,
                createdAt: Timestamp(microsecondsSinceEpoch: 5), updatedAt: Timestamp(microsecondsSinceEpoch: 6)),
            KnowledgeBaseEntry(
                id: UUIDv7.make(), tenantID: instance.tenantID, instanceID: instance.id, content: "", dataType: .other,
                langHint: .other, status: .ready, failureReason: nil, metadata: [:], version: 1,
                createdAt: Timestamp(microsecondsSinceEpoch: 0), updatedAt: Timestamp(microsecondsSinceEpoch: 0)),
        ]
        for entry in entries {
            let mine = String(decoding: ResourceJSON.render(entry), as: UTF8.self)
            #expect(mine == (try Self.generated(Components.Schemas.KBEntry(entry))))
        }
        for cursor in [nil, "next"] {
            let mine = String(decoding: ResourceJSON.render(entries, nextCursor: cursor), as: UTF8.self)
            let typed = Components.Schemas.KBEntryPage(
                entries: entries.map(Components.Schemas.KBEntry.init), nextCursor: cursor)
            #expect(mine == (try Self.generated(typed)))
        }
    }

    @Test func anEventPageIsWrittenAsTheGeneratedEncoderWritesIt() throws {
        let tenant = TenantID(UUID())
        let events = [
            Event(
                tenantID: tenant, position: EventPosition(major: 0, minor: 7), id: "e1", source: "/agentplane",
                type: "instance.created", subject: "instances/1", time: Timestamp(microsecondsSinceEpoch: 12),
                data: .object(Self.awkward),
                context: EventContext(correlationID: "c", causationID: nil, requestID: "r", userID: "u")),
            Event(
                tenantID: tenant, position: EventPosition(major: 3, minor: 1), id: "e2", source: "s", type: "t",
                subject: nil, time: Timestamp(microsecondsSinceEpoch: 99), data: .array([.null, .double(0.1)])),
        ]
        let mine = String(
            decoding: EventPageBody.render(events, lastSequence: "abc", hasMore: true), as: UTF8.self)
        let typed = Components.Schemas.EventPage(
            events: events.map(Components.Schemas.Event.init), lastSequence: "abc", hasMore: true)
        #expect(mine == (try Self.generated(typed)))
    }

    @Test func storedJSONTextRoundTrips() throws {
        let value = JSONValue.object(Self.awkward)
        #expect(JSONValue(parsing: value.jsonText)?.jsonText == value.jsonText)
        let foundation = String(decoding: try Self.generated(value).utf8, as: UTF8.self)
        #expect(value.jsonText == foundation)
    }
}
