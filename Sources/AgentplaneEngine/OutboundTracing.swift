/// `OutboundTracing.withClientSpan` lives in the `AgentplaneTracing` target, below the MCP client that traces its
/// requests with it too; it is part of the engine's API, so that every outbound call (tools, webhooks, probes, LLM
/// calls, the gateway's proxying) is traced the same way.
@_exported import AgentplaneTracing
