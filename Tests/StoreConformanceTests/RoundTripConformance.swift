import AgentplaneCore
import AgentplaneStore
import AgentplaneTesting
import Testing

@Suite struct RoundTripConformance {
    static let instants: [Int64] = [
        1_764_133_259_123_456,  // 2025-11-26 with every microsecond digit set
        1_764_133_259_000_001,
        1_764_133_259_999_999,
        0,
        -1_000_001,  // before the epoch
        253_402_300_799_999_999,  // 9999-12-31T23:59:59.999999Z
    ]

    @Test(arguments: TestBackend.allCases)
    func timestampsKeepEveryMicrosecond(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = Fixtures.tenant()
            let events = Self.instants.map {
                NewEvent(type: "time.check", time: Timestamp(microsecondsSinceEpoch: $0))
            }
            _ = try await store.events.append(events, tenant: tenant)
            let read = try await store.events.list(tenant: tenant, query: EventQuery(limit: 100))
            #expect(read.map(\.time.microsecondsSinceEpoch) == Self.instants)

            let key = Fixtures.apiKey(createdAt: Timestamp(microsecondsSinceEpoch: Self.instants[0]))
            try await store.apiKeys.insert(key, event: Fixtures.event("api_key.created"))
            #expect(try await store.apiKeys.find(prefix: key.prefix)?.key == key)
        }
    }

    static let documents: [JSONValue] = [
        .object([
            "nested": .object(["deeper": .object(["deepest": .array([.int(1), .null, .bool(false), .object([:])])])]),
            "empty_array": .array([]),
            "empty_object": .object([:]),
        ]),
        .object([
            "unicode": .string("héllo wörld ✓ 日本語 עברית 👩‍👩‍👧 e\u{301}"),
            "escapes": .string("quote \" backslash \\ newline \n tab \t slash / control \u{1}"),
            "unicode key ✓": .bool(true),
        ]),
        .object([
            "max": .int(Int64.max),
            "min": .int(Int64.min),
            "zero": .int(0),
            "fraction": .double(0.1),
            "tiny": .double(5e-324),
            "huge": .double(1.7976931348623157e308),
            "negative": .double(-12345.678901234),
        ]),
        .array([.string("top-level arrays"), .int(42)]),
        .string("a bare string"),
        .int(-7),
        .null,
        (0..<40).reduce(JSONValue.string("bottom")) { inner, level in .object(["level\(level)": inner]) },
    ]

    @Test(arguments: TestBackend.allCases)
    func jsonValuesComeBackExactly(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = Fixtures.tenant()
            _ = try await store.events.append(Self.documents.map { Fixtures.event(data: $0) }, tenant: tenant)
            let read = try await store.events.list(tenant: tenant, query: EventQuery(limit: 100))
            #expect(read.map(\.data) == Self.documents)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func eventFieldsComeBackAsAppended(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let tenant = Fixtures.tenant()
            let new = NewEvent(
                id: "client-chosen-id",
                type: "order.shipped",
                subject: "orders/42",
                source: "/shop",
                time: Timestamp(microsecondsSinceEpoch: 1_764_133_259_123_456),
                data: .object(["order": .int(42)]),
                context: EventContext(correlationID: "c-1", causationID: "e-0", requestID: "r-1", userID: "u-1")
            )
            let appended = try await store.events.append([new], tenant: tenant)
            let read = try await store.events.list(tenant: tenant, query: EventQuery())
            #expect(read == appended)
            #expect(read.first?.source == "/shop")
            #expect(read.first?.context == new.context)
            // Without a source the tenant's own is used.
            let defaulted = try await store.events.append([Fixtures.event()], tenant: tenant)
            #expect(defaulted.first?.source == "/tenants/\(tenant)")
        }
    }
}
