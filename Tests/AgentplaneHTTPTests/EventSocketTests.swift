import AgentplaneCore
import AgentplaneServer
import AgentplaneStore
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import HummingbirdWSClient
import Logging
import Synchronization
import Testing

/// The event WebSocket on a real server on loopback, with a real WebSocket client.
@Suite(.timeLimit(.minutes(3))) struct EventSocketTests {
    /// Connects to `/api/v1/ws` with `query` (a ticket) or `headers`, runs `body` with the socket, then closes it.
    static func withSocket(
        port: Int, query: String = "", headers: HTTPFields = [:],
        _ body: @escaping @Sendable (SocketInbox, WebSocketOutboundWriter) async throws -> Void
    ) async throws {
        var configuration = WebSocketClientConfiguration()
        configuration.additionalHeaders = headers
        try await WebSocketClient.connect(
            url: "ws://127.0.0.1:\(port)/api/v1/ws\(query)", configuration: configuration, logger: testLogger()
        ) { inbound, outbound, _ in
            let inbox = SocketInbox()
            // The inbound stream has one reader, a child of the handler, which ends when the server answers the close:
            // cancelling a reader mid-`next()` tore the connection down under the close handshake (CancellationError).
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message { inbox.add(text) }
                    }
                }
                try await body(inbox, outbound)
                try await outbound.close(.normalClosure, reason: nil)
                try await group.waitForAll()
            }
        }
    }

    static func ticket(_ client: any TestClientProtocol, key: String = testAdminKey) async throws -> String {
        let response = try await client.request(.post, "/api/v1/ws/tickets", key: key)
        #expect(response.status == .created, "\(response.text)")
        return try #require(try response.json()["ticket"]?.stringValue)
    }

    @Test(arguments: TestBackend.allCases)
    func aBrowserWithATicketFollowsAnInstancesStatus(backend: TestBackend) async throws {
        try await withLiveServer(backend, engine: EngineSettings()) { client, _ in
            let port = try #require(client.port)
            let agent = try await InstancesAPITests.agent(client)
            let acme = try await TenantFixture.make(client, slug: "ws-acme")
            let ticket = try await Self.ticket(client, key: acme.adminKey)
            try await Self.withSocket(port: port, query: "?ticket=\(ticket)") { inbox, outbound in
                try await outbound.write(.text(#"{"type":"subscribe","id":"mine","event_types":["instance.*"]}"#))
                let subscribed = try await inbox.next()
                #expect(subscribed["type"] == "subscribed" && subscribed["id"] == "mine", "\(subscribed)")
                let created = try await client.request(
                    .post, "/api/v1/instances", key: acme.adminKey,
                    json: #"{"template_id":"\#(agent)","title":"Watched"}"#)
                #expect(created.status == .created, "\(created.text)")
                let id = try #require(try created.json()["id"]?.stringValue)
                var types: [String] = []
                var statuses: [String] = []
                // pending → provisioning → running, each as instance.status_changed (seed 001's fan-out).
                while !statuses.contains("running") {
                    let message = try await inbox.next(timeout: .seconds(20))
                    #expect(message["type"] == "event" && message["id"] == "mine", "\(message)")
                    let event = try #require(message["event"])
                    #expect(event["data"]?["instance_id"]?.stringValue == id)
                    types.append(event["type"]?.stringValue ?? "")
                    if event["type"] == "instance.status_changed", let status = event["data"]?["status"]?.stringValue {
                        statuses.append(status)
                    }
                }
                #expect(types.first == "instance.created")
                #expect(statuses == ["provisioning", "running"], "\(types)")
                try await outbound.write(.text(#"{"type":"unsubscribe","id":"mine"}"#))
                #expect(try await inbox.next()["type"] == "unsubscribed")
                try await outbound.write(.text(#"{"type":"ping"}"#))
                #expect(try await inbox.next()["type"] == "pong")
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func badMessagesGetTypedErrorsAndTenantsStayApart(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let port = try #require(client.port)
            let other = try await TenantFixture.make(client, slug: "ws-other")
            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(other.adminKey)"
            try await Self.withSocket(port: port, headers: headers) { inbox, outbound in
                try await outbound.write(.text("not json"))
                let malformed = try await inbox.next()
                #expect(malformed["type"] == "error" && malformed["code"] == "MALFORMED_JSON", "\(malformed)")
                try await outbound.write(
                    .text(#"{"type":"subscribe","id":"a","event_types":["Bad Pattern"],"after":"x","format":"xml"}"#))
                let invalid = try await inbox.next()
                #expect(invalid["type"] == "error" && invalid["id"] == "a" && invalid["status"] == .int(422))
                let pointers = Set(invalid["errors"]?.arrayValue?.compactMap { $0["pointer"]?.stringValue } ?? [])
                #expect(pointers == ["/event_types/0", "/after", "/format"], "\(invalid)")
                try await outbound.write(.text(#"{"type":"dance"}"#))
                #expect(try await inbox.next()["errors"]?.arrayValue?.first?["pointer"] == "/type")
                try await outbound.write(.text(#"{"type":"subscribe","id":"all"}"#))
                #expect(try await inbox.next()["type"] == "subscribed")
                // The platform tenant's event never reaches this tenant's socket; its own does.
                _ = try await EventStreamTests.publish(client, "platform.secret")
                let own = try await EventStreamTests.publish(client, "their.own", key: other.adminKey)
                let first = try await inbox.next()
                #expect(first["event"]?["sequence"]?.stringValue == own && first["event"]?["type"] == "their.own")
            }
            // Without a credential, or with a forged ticket, there is no upgrade.
            await #expect(throws: (any Error).self) {
                try await Self.withSocket(port: port) { _, _ in Issue.record("upgraded without a credential") }
            }
            await #expect(throws: (any Error).self) {
                try await Self.withSocket(port: port, query: "?ticket=forged") { _, _ in
                    Issue.record("upgraded with a forged ticket")
                }
            }
            // A plain GET is a problem, not a hang; a ticket is no access token.
            #expect(try await client.request(.get, "/api/v1/ws").status == .badRequest)
            let ticket = try await Self.ticket(client, key: other.adminKey)
            #expect(try await client.request(.get, "/api/v1/events", key: ticket).status == .unauthorized)
            #expect(try await client.request(.get, "/api/v1/ws?ticket=\(ticket)", key: nil).status == .badRequest)
        }
    }
}
