import AgentplaneCore
import AgentplaneServer
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Named consumers through a live server: batches of matching events after the committed offset, acks,
/// lag, filters, starting positions, seed 000's message format, and tenants kept apart.
@Suite(.timeLimit(.minutes(3))) struct ConsumersAPITests {
    static func publish(_ client: any TestClientProtocol, _ key: String, _ types: [String]) async throws {
        for type in types {
            let published = try await client.request(
                .post, "/api/v1/events", key: key, json: #"{"type":"\#(type)","data":{"t":"\#(type)"}}"#)
            #expect(published.status == .created || published.status == .accepted, "\(published.text)")
        }
    }

    static func batch(_ client: any TestClientProtocol, _ key: String, _ name: String, limit: Int = 100)
        async throws -> JSONValue
    {
        let answer = try await client.request(.get, "/api/v1/consumers/\(name)/events?limit=\(limit)", key: key)
        #expect(answer.status == .ok, "\(answer.text)")
        return try answer.json()
    }

    static func ack(_ client: any TestClientProtocol, _ key: String, _ name: String, _ body: String) async throws
        -> TestResponse
    {
        try await client.request(.post, "/api/v1/consumers/\(name)/ack", key: key, json: body)
    }

    @Test(arguments: TestBackend.allCases)
    func consumersReadFilteredBatchesAckOffsetsAndReportLag(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let tenant = try await TenantFixture.make(client, slug: "consuming")
            let key = tenant.adminKey
            let orders = try await client.request(
                .post, "/api/v1/consumers", key: key, json: #"{"name":"orders","event_types":["order.*"]}"#)
            #expect(orders.status == .created, "\(orders.text)")
            #expect(try orders.json()["lag"] == .int(0) && orders.json()["format"] == "cloudevents")
            try await Self.publish(
                client, key, ["order.created", "member.joined", "order.paid", "member.left", "order.shipped"])
            // Lag counts what a reader may see now; on PostgreSQL a transaction still running anywhere on the server
            // holds the newest events back for a moment (reads wait for them, the lag count does not).
            let lagging = try await client.awaitJSON("/api/v1/consumers/orders", key: key) { $0["lag"] == .int(5) }
            #expect(lagging["lag_capped"] == .bool(false))
            // A batch of two matching events; reading again without an ack gives them again.
            let first = try await Self.batch(client, key, "orders", limit: 2)
            #expect(first["events"]?.arrayValue?.map { $0["type"] } == ["order.created", "order.paid"])
            let next = try #require(first["next_offset"]?.stringValue)
            #expect(next == first["events"]?.arrayValue?.last?["sequence"]?.stringValue)
            let again = try await Self.batch(client, key, "orders", limit: 2)
            #expect(again["events"]?.arrayValue?.map { $0["id"] } == first["events"]?.arrayValue?.map { $0["id"] })
            let acked = try await Self.ack(client, key, "orders", #"{"offset":"\#(next)"}"#)
            #expect(acked.status == .ok, "\(acked.text)")
            #expect(try acked.json()["committed_offset"] == .string(next) && acked.json()["lag"] == .int(2))
            // The rest: the last order, and the offset past the whole log read.
            let rest = try await Self.batch(client, key, "orders")
            #expect(rest["events"]?.arrayValue?.map { $0["type"] } == ["order.shipped"])
            let end = try #require(rest["next_offset"]?.stringValue)
            #expect(try await Self.ack(client, key, "orders", #"{"offset":"\#(end)"}"#).status == .ok)
            let caughtUp = try await client.request(.get, "/api/v1/consumers/orders", key: key).json()
            #expect(caughtUp["lag"] == .int(0) && caughtUp["acked_at"] != nil)
            #expect(try await Self.batch(client, key, "orders")["events"]?.arrayValue?.isEmpty == true)
            // Acks that cannot be: backwards (unless a rewind), malformed, beyond the log.
            let backwards = try await Self.ack(client, key, "orders", #"{"offset":"\#(next)"}"#)
            #expect(backwards.status == .conflict)
            #expect(try backwards.json()["errors"]?.arrayValue?.first?["pointer"] == "/offset")
            for bad in [#"{"offset":"nope"}"#, #"{"offset":"ffffffffffffffffffffffffffffffff"}"#] {
                let refused = try await Self.ack(client, key, "orders", bad)
                #expect(refused.status == .unprocessableContent, "\(bad): \(refused.text)")
                #expect(try refused.json()["errors"]?.arrayValue?.first?["pointer"] == "/offset")
            }
            let rewound = try await Self.ack(client, key, "orders", #"{"offset":"\#(next)","rewind":true}"#)
            #expect(rewound.status == .ok)
            #expect(try await Self.batch(client, key, "orders")["events"]?.arrayValue?.count == 1)
            // Start positions: the beginning, and after a given position.
            let all = try await client.request(
                .post, "/api/v1/consumers", key: key,
                json: #"{"name":"all-members","event_types":["member.*"],"start_at":"beginning"}"#)
            #expect(all.status == .created)
            #expect(
                try await Self.batch(client, key, "all-members")["events"]?.arrayValue?.map { $0["type"] } == [
                    "member.joined", "member.left",
                ])
            let from = try await client.request(
                .post, "/api/v1/consumers", key: key, json: #"{"name":"from-next","start_at":"\#(next)"}"#)
            #expect(from.status == .created)
            #expect(
                try await Self.batch(client, key, "from-next")["events"]?.arrayValue?.map { $0["type"] } == [
                    "member.left", "order.shipped",
                ])
            // Refusals name the field.
            let refusals: [(String, HTTPResponse.Status, String)] = [
                (#"{"name":"orders"}"#, .conflict, "/name"),
                (#"{"name":"Bad Name"}"#, .unprocessableContent, "/name"),
                (#"{"name":"ok","event_types":["a**b",""]}"#, .unprocessableContent, "/event_types/1"),
                (#"{"name":"ok","start_at":"yesterday"}"#, .unprocessableContent, "/start_at"),
            ]
            for (body, status, pointer) in refusals {
                let answer = try await client.request(.post, "/api/v1/consumers", key: key, json: body)
                #expect(answer.status == status, "\(body): \(answer.text)")
                #expect(
                    try answer.json()["errors"]?.arrayValue?.contains { $0["pointer"] == .string(pointer) } == true,
                    "\(body): \(answer.text)")
            }
            let listed = try await client.request(.get, "/api/v1/consumers?limit=2", key: key).json()
            #expect(listed["consumers"]?.arrayValue?.map { $0["name"] } == ["all-members", "from-next"])
            #expect(listed["next_cursor"] == "from-next")
            #expect(try await client.request(.delete, "/api/v1/consumers/from-next", key: key).status == .noContent)
            #expect(try await client.request(.get, "/api/v1/consumers/from-next", key: key).status == .notFound)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func seedZeroConsumersGetSeedZeroMessagesOfTheirOwnTenantOnly(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let a = try await TenantFixture.make(client, slug: "seed-a")
            let b = try await TenantFixture.make(client, slug: "seed-b")
            let agent = try await client.request(
                .post, "/api/v1/agents", json: #"{"type":"persona","name":"Persona","category":"x"}"#)
            let agentID = try #require(try agent.json()["id"]?.stringValue)
            for tenant in [a, b] {
                let consumer = try await client.request(
                    .post, "/api/v1/consumers", key: tenant.adminKey,
                    json:
                        #"{"name":"personas","event_types":["instance.created"],"format":"seed000","start_at":"beginning"}"#
                )
                #expect(consumer.status == .created, "\(consumer.text)")
            }
            let created = try await client.request(
                .post, "/api/v1/instances", key: a.adminKey, json: #"{"agent_id":"\#(agentID)","name":"A's desk"}"#)
            let instanceID = try #require(try created.json()["id"]?.stringValue)
            try await Self.publish(client, b.adminKey, ["secret.b"])
            let batch = try await Self.batch(client, a.adminKey, "personas")
            #expect(batch["format"] == "seed000")
            let message = try #require(batch["events"]?.arrayValue?.first)
            #expect(batch["events"]?.arrayValue?.count == 1)
            #expect(message["event"] == "instance_created")
            #expect(message["data"]?["instance_id"] == .string(instanceID))
            #expect(message["data"]?["template_id"] == .string(agentID))
            #expect(message["data"]?["user_id"]?.stringValue?.isEmpty == false)
            #expect(message["timestamp"]?.stringValue != nil && message["id"] != nil)
            // B's consumer of the same name sees none of A's events, and A's log none of B's.
            #expect(try await Self.batch(client, b.adminKey, "personas")["events"]?.arrayValue?.isEmpty == true)
            let everything = try await client.request(
                .post, "/api/v1/consumers", key: a.adminKey, json: #"{"name":"everything","start_at":"beginning"}"#)
            #expect(everything.status == .created)
            let seen = try await Self.batch(client, a.adminKey, "everything", limit: 1000)
            let text = String(decoding: try JSONEncoder().encode(seen), as: UTF8.self)
            #expect(!text.contains("secret.b") && !text.contains(b.id))
        }
    }
}
