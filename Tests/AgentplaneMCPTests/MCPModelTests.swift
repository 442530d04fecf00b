import AgentplaneCore
import Testing

@testable import AgentplaneMCP

/// Pure parts: a tool result's output, the child's environment, the allow-list, error texts.
@Suite struct MCPModelTests {
    static func text(_ text: String) -> JSONValue { ["type": "text", "text": .string(text)] }

    @Test func outputIsTheStructuredContentWhenPresent() {
        let result = MCPToolResult(
            isError: false, content: [Self.text("{\"ignored\": true}")], structured: ["summary": "Sunny"])
        #expect(result.output == ["summary": "Sunny"])
    }

    @Test func outputIsTheOneTextBlockParsedWhenItIsJSON() {
        let result = MCPToolResult(isError: false, content: [Self.text("{\"ok\": true, \"n\": 2}")], structured: nil)
        #expect(result.output == ["ok": .bool(true), "n": .int(2)])
    }

    @Test func outputJoinsTextBlocksOtherwise() {
        let image: JSONValue = ["type": "image", "data": "AA==", "mimeType": "image/png"]
        let several = MCPToolResult(
            isError: false, content: [Self.text("[1]"), image, Self.text("two")], structured: nil)
        #expect(several.output == ["text": "[1]\ntwo"])
        let prose = MCPToolResult(isError: true, content: [Self.text("not json")], structured: nil)
        #expect(prose.output == ["text": "not json"])
        #expect(MCPToolResult(isError: false, content: [], structured: nil).output == ["text": ""])
    }

    @Test func childEnvironmentIsTheSpecsPlusPathHomeLangOnly() {
        let parent = [
            "PATH": "/usr/bin", "HOME": "/root", "LANG": "C.UTF-8", "AGENTPLANE_DATABASE_URL": "postgres://secret",
            "AWS_SECRET_ACCESS_KEY": "secret",
        ]
        let environment = StdioServerProcess.childEnvironment(
            ["API_TOKEN": "t", "LANG": "de_DE.UTF-8"], parent: parent)
        #expect(environment == ["PATH": "/usr/bin", "HOME": "/root", "LANG": "de_DE.UTF-8", "API_TOKEN": "t"])
    }

    @Test(arguments: [
        ("python3", ["python3"]),
        ("./python3", ["./python3"]),
        ("bin/python3", ["/usr/bin/python3"]),
        ("/usr/bin/../bin/python3", ["/usr/bin/python3"]),
        ("/usr/bin/python3 ", ["/usr/bin/python3"]),
        ("/bin/sh", []),
    ])
    func refusesCommandsNotExactlyAnAllowListedAbsolutePath(command: String, allowList: [String]) {
        #expect(throws: MCPError.commandNotAllowed(command: command)) {
            _ = try StdioServerProcess(command: command, arguments: [], environment: [:], allowList: Set(allowList))
        }
    }

    @Test func errorDescriptionsNameTheStatusAndCommandOnly() {
        #expect(MCPError.http(status: 500).description == "the MCP server answered HTTP 500")
        #expect(MCPError.commandNotAllowed(command: "/bin/sh").description.contains("'/bin/sh'"))
        #expect(
            MCPError.serverExited(status: 9, stderrTail: "Traceback\n").description
                == "the MCP server process exited (status 9): Traceback")
    }
}
