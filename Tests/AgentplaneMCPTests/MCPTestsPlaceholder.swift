// Tests of AgentplaneMCP against real MCP servers.
