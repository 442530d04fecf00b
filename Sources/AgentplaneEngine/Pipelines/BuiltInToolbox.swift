import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// The built-in tools (DESIGN §6): `http.request`, `events.publish`, `kb.search`, `llm.chat`, `log`, `sleep`;
/// other names go to `next` (the tenant's MCP servers).
public struct BuiltInToolbox: ToolInvoker {
    let useCases: UseCases
    let outbound: OutboundPolicy
    let next: (any ToolInvoker)?
    /// Asks model endpoints for `llm.chat`.
    let chatClient: ChatModelClient

    /// The longest `sleep`.
    public static let maximumSleepSeconds = 300.0
    /// The most bytes of an HTTP answer a step keeps.
    public static let maximumResponseBytes = 1 << 20

    /// Creates the toolbox; `chatClient` defaults to one on `outboundClient` under the same policy.
    public init(
        useCases: UseCases, outbound: OutboundPolicy, next: (any ToolInvoker)? = nil,
        chatClient: ChatModelClient? = nil
    ) {
        self.useCases = useCases
        self.outbound = outbound
        self.next = next
        self.chatClient =
            chatClient
            ?? ChatModelClient(
                httpClient: Self.outboundClient, outbound: outbound, logger: Logger(label: "agentplane.llm"))
    }

    public func call(_ uses: String, input: [String: JSONValue], context: ToolCallContext) async throws -> JSONValue {
        switch uses {
        case "log": return log(input, context: context)
        case "sleep": return try await sleep(input)
        case "events.publish": return try await publish(input, context: context)
        case "kb.search": return try await search(input, context: context)
        case "http.request": return try await request(input, context: context)
        case "llm.chat": return try await chat(input, context: context)
        default:
            guard let next else { throw ToolFailure("no tool named '\(uses)'", retryable: false) }
            return try await next.call(uses, input: input, context: context)
        }
    }

    func log(_ input: [String: JSONValue], context: ToolCallContext) -> JSONValue {
        let message = input["message"]?.stringValue ?? JSONValue.object(input).jsonText
        context.logger.info(
            "pipeline log",
            metadata: [
                "task_id": .string(context.taskID.lowercasedString), "run_id": .string(context.runID.lowercasedString),
                "message": .string(message),
            ])
        return ["logged": .string(message)]
    }

    func sleep(_ input: [String: JSONValue]) async throws -> JSONValue {
        guard let seconds = input["seconds"]?.numberValue, seconds >= 0, seconds <= Self.maximumSleepSeconds else {
            throw ToolFailure(
                "sleep needs 'seconds' between 0 and \(Int(Self.maximumSleepSeconds))", retryable: false)
        }
        try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
        return ["slept_seconds": .double(seconds)]
    }

    func publish(_ input: [String: JSONValue], context: ToolCallContext) async throws -> JSONValue {
        guard let type = input["type"]?.stringValue else {
            throw ToolFailure("events.publish needs a 'type'", retryable: false)
        }
        do {
            let event = try await useCases.publishEvent(
                PublishEvent(
                    type: type, subject: input["subject"]?.stringValue, data: input["data"] ?? .object([:]),
                    causationID:
                        "task:\(context.taskID.lowercasedString):run:\(context.runID.lowercasedString):depth:\(context.depth)"
                ),
                tenant: context.tenant, by: .worker("pipeline.events.publish", run: context.runID))
            return ["event_id": .string(event.id), "type": .string(event.type)]
        } catch let error as AgentplaneError {
            throw ToolFailure("events.publish refused: \(error.detail)", retryable: false)
        }
    }

    func search(_ input: [String: JSONValue], context: ToolCallContext) async throws -> JSONValue {
        guard let instance = context.instanceID else {
            throw ToolFailure(
                "kb.search needs the task's instance_id (the instance whose knowledge base it searches)",
                retryable: false)
        }
        guard let query = input["query"]?.stringValue else {
            throw ToolFailure("kb.search needs a 'query'", retryable: false)
        }
        let limit = input["limit"]?.numberValue.map { Int($0) } ?? 5
        do {
            let hits = try await useCases.searchKnowledgeBase(
                instance: instance, query: query, limit: limit, tenant: context.tenant,
                for: .worker("pipeline.kb.search", run: context.runID))
            return [
                "hits": .array(
                    hits.map { hit in
                        [
                            "entry_id": .string(hit.entryID.lowercasedString), "snippet": .string(hit.snippet),
                            "rank": .double(hit.rank),
                        ]
                    })
            ]
        } catch let error as AgentplaneError {
            throw ToolFailure("kb.search refused: \(error.detail)", retryable: false)
        }
    }
}
