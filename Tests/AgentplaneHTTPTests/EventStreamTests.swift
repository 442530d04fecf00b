import AgentplaneCore
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Server-Sent Events and long polls on a real server on loopback, read by a real streaming HTTP client.
@Suite(.timeLimit(.minutes(3))) struct EventStreamTests {
    static let auth = ("Authorization", "Bearer \(testAdminKey)")

    /// Publishes an event of `type` and answers its position.
    static func publish(
        _ client: any TestClientProtocol, _ type: String, subject: String? = nil, key: String = testAdminKey
    ) async throws -> String {
        let subjectField = subject.map { #","subject":"\#($0)""# } ?? ""
        let response = try await client.request(
            .post, "/api/v1/events", key: key, json: #"{"type":"\#(type)","data":{"n":1}\#(subjectField)}"#)
        #expect(response.status == .created, "\(response.text)")
        return try #require(try response.json()["sequence"]?.stringValue)
    }

    /// Waits until the hub counts `count` subscribers of `tenant` (a long poll or stream is in place).
    static func awaitSubscribers(_ client: any TestClientProtocol, tenant: String, _ count: Int) async throws {
        let series = #"agentplane_event_subscribers{tenant="\#(tenant)"} "#
        _ = try await client.awaitText("/metrics") { metrics in
            metrics.split(separator: "\n").first { $0.hasPrefix(series) }.flatMap {
                Double($0.dropFirst(series.count))
            } == Double(count)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aStreamDeliversMatchingEventsInOrderAndResumesFromLastEventID(backend: TestBackend) async throws {
        try await withLiveServer(backend, streamHeartbeat: .milliseconds(300)) { client, _ in
            let port = try #require(client.port)
            let stream = try await EventStreamClient.open(
                port: port, path: "/api/v1/events/stream?type=order.*&type=invoice.paid", headers: [Self.auth])
            #expect(stream.status == 200, "\(stream.problem ?? "")")
            #expect(stream.contentType?.hasPrefix("text/event-stream") == true)
            #expect(try await stream.next(comments: true)?.comment == "subscribed")
            let created = try await Self.publish(client, "order.created")
            _ = try await Self.publish(client, "shipment.sent")
            let paid = try await Self.publish(client, "invoice.paid")
            let shipped = try await Self.publish(client, "order.shipped")
            var seen: [ServerSentMessage] = []
            for _ in 0..<3 { seen.append(try await stream.nextEvent()) }
            #expect(seen.map(\.event) == ["order.created", "invoice.paid", "order.shipped"])
            #expect(seen.map(\.id) == [created, paid, shipped])
            #expect(seen.map { $0.json?["sequence"]?.stringValue } == [created, paid, shipped])
            #expect(seen[0].json?["specversion"] == "1.0")
            // Silence brings keep-alive comments.
            var comment: String?
            while comment == nil {
                let message = try #require(try await stream.next(timeout: .seconds(5), comments: true))
                comment = message.data == nil ? message.comment : nil
            }
            #expect(comment == "keep-alive")
            stream.close()
            // Resuming after `paid` delivers what came after it, and what is appended next, once each.
            let cancelled = try await Self.publish(client, "order.cancelled")
            let resumed = try await EventStreamClient.open(
                port: port, path: "/api/v1/events/stream?type=order.*&type=invoice.paid",
                headers: [Self.auth, ("Last-Event-ID", paid)])
            #expect(try await resumed.nextEvent().id == shipped)
            #expect(try await resumed.nextEvent().id == cancelled)
            let later = try await Self.publish(client, "order.closed")
            #expect(try await resumed.nextEvent().id == later)
            resumed.close()
        }
    }

    @Test(arguments: TestBackend.allCases)
    func subjectFiltersAndSeedZeroFormatAndBadParameters(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let port = try #require(client.port)
            let start = try await Self.publish(client, "order.created", subject: "orders/1")
            let stream = try await EventStreamClient.open(
                port: port, path: "/api/v1/events/stream?subject=orders/2&format=seed000&after=\(start)",
                headers: [Self.auth])
            _ = try await Self.publish(client, "order.created", subject: "orders/1")
            let wanted = try await Self.publish(client, "order.created", subject: "orders/2")
            let message = try await stream.nextEvent()
            #expect(message.id == wanted)
            let json = try #require(message.json)
            #expect(json["event"] == "order_created")
            #expect(json["id"] != nil && json["timestamp"] != nil)
            #expect(json["data"]?["n"] == .int(1))
            stream.close()
            for (query, pointer) in [
                ("type=Order.*", "type/0"), ("after=nope", "after"), ("format=xml", "format"),
            ] {
                let bad = try await EventStreamClient.open(
                    port: port, path: "/api/v1/events/stream?\(query)", headers: [Self.auth])
                #expect(bad.status == 400 || bad.status == 422, "\(query): \(bad.status)")
                let problem = try #require(bad.problem.flatMap { JSONValue(parsing: $0) })
                #expect(
                    problem["errors"]?.arrayValue?.first?["pointer"]?.stringValue?.contains(pointer) == true,
                    "\(problem)")
            }
            let anonymous = try await EventStreamClient.open(port: port, path: "/api/v1/events/stream", headers: [])
            #expect(anonymous.status == 401)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aLongPollAnswersWhenAnEventArrives(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let poller = try await TenantFixture.make(client, slug: "poller")
            let key = poller.adminKey
            let latest = try #require(
                try await client.request(.get, "/api/v1/events", key: key).json()["last_sequence"])
            let after = try #require(latest.stringValue)
            // Nothing comes: the wait ends with an empty page at the same position.
            let empty = try await client.request(.get, "/api/v1/events?after=\(after)&wait=1", key: key).json()
            #expect(empty["events"] == .array([]))
            #expect(empty["last_sequence"] == latest)
            let port = try #require(client.port)
            async let polled = EventStreamClient.get(
                port: port, path: "/api/v1/events?after=\(after)&wait=30&type=order.created", key: key)
            try await Self.awaitSubscribers(client, tenant: poller.id, 1)
            _ = try await Self.publish(client, "order.other", key: key)
            let wanted = try await Self.publish(client, "order.created", key: key)
            let (status, body) = try await polled
            #expect(status == 200)
            let page = try #require(body)
            #expect(page["events"]?.arrayValue?.map { $0["sequence"] } == [.string(wanted)])
            try await Self.awaitSubscribers(client, tenant: poller.id, 0)
            let bad = try await client.request(.get, "/api/v1/events?wait=61")
            #expect(bad.status == .badRequest)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func anotherTenantsStreamNeverSeesThisTenantsEvents(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let port = try #require(client.port)
            let other = try await TenantFixture.make(client, slug: "stream-b")
            let theirs = try await EventStreamClient.open(
                port: port, path: "/api/v1/events/stream", headers: [("Authorization", "Bearer \(other.adminKey)")])
            let mine = try await client.request(.get, "/api/v1/events", key: other.adminKey).json()
            let after = try #require(mine["last_sequence"]?.stringValue)
            async let polled = EventStreamClient.get(
                port: port, path: "/api/v1/events?after=\(after)&wait=30", key: other.adminKey)
            try await Self.awaitSubscribers(client, tenant: other.id, 2)
            _ = try await Self.publish(client, "secret.plan")
            let own = try await Self.publish(client, "their.own", key: other.adminKey)
            let first = try await theirs.nextEvent()
            #expect(first.id == own && first.event == "their.own")
            #expect(try await polled.1?["events"]?.arrayValue?.map { $0["sequence"] } == [.string(own)])
            // Naming the other tenant is a 404, for the stream as for everything else.
            let named = try await EventStreamClient.open(
                port: port, path: "/api/v1/events/stream",
                headers: [
                    ("Authorization", "Bearer \(other.adminKey)"), ("X-Tenant-ID", TenantID.platform.description),
                ])
            #expect(named.status == 404)
            theirs.close()
        }
    }
}
