import AgentplaneCore
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdWSClient
import PostgresNIO
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Every node delivers every event: two `agentplane serve` processes on one PostgreSQL, a stream on one node
/// following what is appended on both, across a killed LISTEN connection, and ended cleanly by SIGTERM.
@Suite(.timeLimit(.minutes(4))) struct EventFanOutTests {
    static func publish(_ address: String, _ number: Int) async throws {
        var request = URLRequest(url: URL(string: "\(address)/api/v1/events")!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(testAdminKey)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(#"{"type":"fanout.step","data":{"n":\#(number)}}"#.utf8)
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 201)
    }

    /// Reads `count` events and checks they are `numbers`, in order, with ascending ids.
    static func expect(_ stream: EventStreamClient, numbers: Range<Int>) async throws {
        var last = ""
        for number in numbers {
            let message = try await stream.nextEvent(timeout: .seconds(20))
            #expect(message.json?["data"]?["n"] == .int(Int64(number)), "\(message)")
            let id = message.id ?? ""
            #expect(id > last, "out of order: \(id) after \(last)")
            last = id
        }
    }

    @Test func aStreamOnOneNodeSeesEveryNodesEventsAcrossAKilledListenConnection() async throws {
        try await withIsolatedDatabase(.postgres) { database in
            let arguments = ["serve", "--port", "0"] + ServeTests.arguments(database)
            let first = try AgentplaneProcess(arguments, environment: EngineProcessTests.environment)
            let firstAddress = try await EngineProcessTests.ready(first)
            let second = try AgentplaneProcess(arguments, environment: EngineProcessTests.environment)
            let secondAddress = try await EngineProcessTests.ready(second)
            let port = try #require(URL(string: secondAddress)?.port)
            let stream = try await EventStreamClient.open(
                port: port, path: "/api/v1/events/stream?type=fanout.*",
                headers: [("Authorization", "Bearer \(testAdminKey)")])
            #expect(stream.status == 200)
            #expect(try await stream.next(comments: true)?.comment == "subscribed")
            // Appended on both nodes (mostly the other one), seen on the second in log order.
            for number in 0..<40 { try await Self.publish(number % 4 == 3 ? secondAddress : firstAddress, number) }
            try await Self.expect(stream, numbers: 0..<40)
            // Kill both nodes' LISTEN connections; what is appended meanwhile still arrives, in order.
            let schema = try #require(database.schema)
            let killed = try await PostgresAdmin.withConnection(url: try #require(database.postgresURL)) { connection in
                var count = 0
                let rows = try await connection.query(
                    """
                    SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE application_name = \("agentplane-listen \(schema)")
                    """, logger: testLogger())
                for try await killed in rows.decode(Bool.self) where killed { count += 1 }
                return count
            }
            #expect(killed == 2, "one LISTEN connection per node")
            for number in 40..<60 { try await Self.publish(firstAddress, number) }
            try await Self.expect(stream, numbers: 40..<60)
            // SIGTERM: the stream and a WebSocket subscription end with their resume points, and the node exits.
            let inbox = SocketInbox()
            let subscribed = Latch(count: 1)
            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(testAdminKey)"
            var configuration = WebSocketClientConfiguration()
            configuration.additionalHeaders = headers
            let socket = Task {
                try await WebSocketClient.connect(
                    url: "ws://127.0.0.1:\(port)/api/v1/ws", configuration: configuration, logger: testLogger()
                ) { inbound, outbound, _ in
                    try await outbound.write(.text(#"{"type":"subscribe","id":"s","event_types":["fanout.*"]}"#))
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        guard case .text(let text) = message else { continue }
                        inbox.add(text)
                        if text.contains(#""subscribed""#) { subscribed.countDown() }
                    }
                }
            }
            try await subscribed.wait(within: .seconds(20))
            #expect(try await inbox.next()["type"] == "subscribed")
            second.signal()
            let last = try await stream.nextEvent(timeout: .seconds(20))
            #expect(last.event == "disconnect")
            #expect(last.json?["reason"] == "shutdown", "\(last)")
            #expect(try await stream.next(timeout: .seconds(20)) == nil)
            // The socket is closed by the node (the WebSocket library sends its close frame at once; an `end` message
            // with the resume point may come first); it never holds the shutdown up.
            _ = try await socket.value
            for message in inbox.drain() {
                #expect(message["type"] == "end" && message["reason"] == "shutdown", "\(message)")
            }
            #expect(await second.waitForExit() == 0, "\(second.outputText)")
            first.signal()
            #expect(await first.waitForExit() == 0)
        }
    }
}
