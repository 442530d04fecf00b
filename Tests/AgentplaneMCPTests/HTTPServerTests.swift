import AgentplaneCore
import Foundation
import Testing

@testable import AgentplaneMCP

/// The pool against telegram-mcp, a real Python streamable-HTTP server
/// (Tests/Fixtures/mcp/telegram_mcp.py), answering with SSE (its default) or with JSON.
@Suite(.enabled(if: MCPFixtures.shouldRun, MCPFixtures.skipMessage), .timeLimit(.minutes(3)))
struct HTTPServerTests {
    static func spec(_ server: TelegramServer, headers: [String: String] = [:]) -> MCPServerSpec {
        MCPServerSpec(
            id: UUID(), version: 1, name: "telegram-mcp", transport: .http(url: server.url, headers: headers))
    }

    @Test(arguments: [false, true])
    func listsToolsAndSendsMessages(jsonResponse: Bool) async throws {
        let server = try await TelegramServer(jsonResponse: jsonResponse)
        let checked = URLLog()
        let pool = MCPFixtures.pool(checkedURLs: checked)
        let spec = Self.spec(server, headers: ["X-Api-Key": "k-123"])

        let tools = try await pool.tools(spec)
        let send = try #require(tools.first { $0.name == "send_message" })
        #expect(send.inputSchema["properties"]?["chat_id"]?["type"] == "integer")
        #expect(checked.all == [server.url])

        for (index, text) in ["hello", "second"].enumerated() {
            let result = try await pool.call(
                spec, tool: "send_message", arguments: ["chat_id": .int(42), "text": .string(text)],
                timeout: .seconds(30))
            #expect(!result.isError)
            #expect(result.output == ["ok": .bool(true), "message_id": .int(Int64(index + 1))])
        }
        #expect(
            server.sentMessages == [#"{"chat_id": 42, "text": "hello"}"#, #"{"chat_id": 42, "text": "second"}"#])

        // The first POST (initialize) has no session; every later request sends back the one assigned,
        // with the negotiated protocol version; shutdown ends the session with a DELETE.
        await pool.shutdown()
        let requests = server.requests.map { $0.split(separator: " ").map(String.init) }
        #expect(requests.first == ["POST", "-", "-"])
        let session = try #require(requests.dropFirst().first?[1])
        #expect(session != "-")
        #expect(requests.dropFirst().allSatisfy { $0[1] == session && $0[2] != "-" }, "\(requests)")
        #expect(requests.last?.first == "DELETE")
        #expect(checked.all == [server.url])
        await server.stop()
    }

    @Test func aServerAnswering500IsAnHTTPErrorThatHidesTheHeaders() async throws {
        let server = try await TelegramServer(failStatus: 500)
        let pool = MCPFixtures.pool()
        let spec = Self.spec(server, headers: ["Authorization": "Bearer sekrit-token"])
        do {
            _ = try await pool.tools(spec)
            Issue.record("a failing server cannot list tools")
        } catch let error as MCPError {
            #expect(error == .http(status: 500))
            #expect(!"\(error)".contains("sekrit"))
            #expect("\(error)".contains("500"))
        }
        await pool.shutdown()
        await server.stop()
    }

    @Test func aRefusedOutboundCheckStopsTheConnect() async throws {
        struct Blocked: Error {}
        let pool = MCPConnectionPool(
            stdioAllowList: [], httpClient: .shared, outboundCheck: { _ in throw Blocked() },
            logger: .init(label: "mcp-tests"))
        let spec = MCPServerSpec(
            id: UUID(), version: 1, name: "internal",
            transport: .http(url: URL(string: "http://169.254.169.254/mcp")!, headers: [:]))
        await #expect(throws: Blocked.self) { try await pool.tools(spec) }
        await pool.shutdown()
    }

    @Test(arguments: [false, true])
    func aTimedOutCallLeavesTheSessionUsable(jsonResponse: Bool) async throws {
        let server = try await TelegramServer(jsonResponse: jsonResponse)
        let pool = MCPFixtures.pool()
        let spec = Self.spec(server)
        await #expect(throws: MCPError.timeout) {
            try await pool.call(spec, tool: "slow", arguments: ["seconds": .double(30)], timeout: .milliseconds(300))
        }
        let result = try await pool.call(
            spec, tool: "send_message", arguments: ["chat_id": .int(1), "text": "after"], timeout: .seconds(30))
        #expect(result.output["ok"] == .bool(true))
        await pool.shutdown()
        await server.stop()
    }
}
