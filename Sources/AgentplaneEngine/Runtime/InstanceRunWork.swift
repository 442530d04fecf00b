import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging

/// The handler of instance runs (`instance.run`, DESIGN §6): runs the instance by its runtime — its pipeline,
/// a chat with its model, or a call of its agent service — within the run's timeout, streaming what the runtime
/// produces as `run.output` events, and answers `{"output", "usage", "runtime"}` (plus `steps` for a pipeline).
public struct InstanceRunWork: Sendable {
    let useCases: UseCases
    let tools: any ToolInvoker
    let runner: PipelineRunner
    let agents: AgentServiceClient
    let environment: [String: String]
    let logger: Logger

    /// Creates the handler over the toolbox (`llm.chat` and the pipelines' tools).
    public init(
        useCases: UseCases, tools: any ToolInvoker, outbound: OutboundPolicy, environment: [String: String] = [:],
        logger: Logger
    ) {
        self.useCases = useCases
        self.tools = tools
        self.runner = PipelineRunner(tools: tools, clock: useCases.clock)
        self.agents = AgentServiceClient(outbound: outbound)
        self.environment = environment
        self.logger = logger
    }

    /// The handlers by run kind.
    public var handlers: [String: RunHandler] { [InstanceRuns.kind: { try await self.perform($0.run) }] }

    func perform(_ run: Run) async throws -> JSONValue {
        let arguments = run.request.arguments
        guard let id = run.request.instanceID,
            let instance = try await useCases.store.instances.find(tenant: run.request.tenantID, id: id)
        else { throw PermanentRunFailure("the instance was deleted") }
        let runtime: InstanceRuntime
        do {
            runtime = try InstanceRuns.runtime(of: instance)
        } catch {
            throw PermanentRunFailure(error.detail)
        }
        let timeout = arguments["timeout_seconds"]?.numberValue ?? runtime.timeoutSeconds
        let input = arguments["input"] ?? .object([:])
        let output = RunOutputWriter(
            store: useCases.store, tenant: instance.tenantID, run: run.id, instance: instance.id, clock: useCases.clock,
            logger: logger)
        let started = ContinuousClock.now
        do {
            let result = try await withTimeout(.milliseconds(Int64(timeout * 1000)), "the run") {
                switch runtime.kind {
                case .pipeline: try await self.pipeline(runtime, instance: instance, input: input, run: run, output)
                case .chat: try await self.chat(instance: instance, input: input, run: run, output)
                case .http:
                    try await self.agents.call(instance: instance, runtime: runtime, input: input, run: run, output)
                }
            }
            await output.finish()
            var answer = result
            answer["runtime"] = .string(runtime.kind.rawValue)
            return .object(answer)
        } catch let failure as ToolFailure where ContinuousClock.now - started >= .milliseconds(Int64(timeout * 1000)) {
            await output.finish()
            throw PermanentRunFailure("the run timed out after \(Duration.seconds(timeout).formatted()): \(failure)")
        } catch {
            await output.finish()
            throw error
        }
    }

    // MARK: Pipeline

    func pipeline(
        _ runtime: InstanceRuntime, instance: Instance, input: JSONValue, run: Run, _ output: RunOutputWriter
    ) async throws -> [String: JSONValue] {
        guard let pipeline = runtime.pipeline else { throw PermanentRunFailure("the instance has no pipeline") }
        let secrets = try await useCases.secretValues(pipeline.referencedSecrets, tenant: instance.tenantID)
        let context = RenderContext(
            task: .object([:]), instance: Self.json(instance), secrets: secrets, env: environment, input: input)
        var call = callContext(instance, run: run)
        call.output = { await output.append($0) }
        let outcome = await runner.run(pipeline, context: context, call: call, attempt: run.attempt)
        try await useCases.store.runs.recordSteps(
            tenant: instance.tenantID, run: run.id, attempt: run.attempt, outcome.logs)
        if let failure = outcome.failure {
            if failure.retryable { throw failure }
            throw PermanentRunFailure(failure.description)
        }
        let last = outcome.logs.last { $0.outcome == .succeeded }
        let usages = outcome.logs.filter { $0.outcome == .succeeded && $0.uses == "llm.chat" }
            .compactMap { $0.output?["usage"] }
        return [
            "output": last?.output ?? .null, "usage": TokenCount.sum(usages),
            "steps": outcome.result["steps"] ?? .object([:]),
        ]
    }

    // MARK: Chat

    func chat(instance: Instance, input: JSONValue, run: Run, _ output: RunOutputWriter) async throws
        -> [String: JSONValue]
    {
        var messages = try ChatInput.messages(from: input)
        // The instance's system prompt first (unless the input brings its own), then the knowledge base's context.
        var preamble: [JSONValue] = []
        if case .string(let prompt)? = instance.config["system_prompt"], !prompt.isEmpty,
            !messages.contains(where: { $0["role"] == "system" })
        {
            preamble.append(["role": "system", "content": .string(prompt)])
        }
        if let top = instance.config["knowledge_base_top_k"]?.numberValue, top > 0,
            let question = messages.last(where: { $0["role"] == "user" })?["content"]?.stringValue
        {
            let hits = try await context(for: question, instance: instance, limit: Int(top), run: run)
            if !hits.isEmpty {
                let context = hits.map { "- \($0.snippet)" }.joined(separator: "\n")
                preamble.append(["role": "system", "content": .string("Context from the knowledge base:\n\(context)")])
            }
        }
        messages = preamble + messages
        var call = callContext(instance, run: run)
        call.output = { await output.append($0) }
        let answer = try await tools.call(
            "llm.chat", input: ["messages": .array(messages), "stream": .bool(true)], context: call)
        return ["output": answer["content"] ?? .null, "usage": answer["usage"] ?? .null]
    }

    /// The knowledge base's best entries for a question: its full-text search for all of the question's words,
    /// else for each of its three longest words (a question rarely shares every word with an entry).
    func context(for question: String, instance: Instance, limit: Int, run: Run) async throws -> [KnowledgeBaseHit] {
        let caller = Caller.worker("instance.run", run: run.id)
        func search(_ text: String) async throws -> [KnowledgeBaseHit] {
            try await useCases.searchKnowledgeBase(
                instance: instance.id, query: String(text.prefix(500)), limit: limit, tenant: instance.tenantID,
                for: caller)
        }
        let all = try await search(question)
        if !all.isEmpty { return all }
        let words = Set(question.components(separatedBy: CharacterSet.alphanumerics.inverted).filter { $0.count >= 4 })
        var found: [UUID: KnowledgeBaseHit] = [:]
        for word in words.sorted(by: { ($0.count, $0) > ($1.count, $1) }).prefix(3) {
            for hit in try await search(word) where (found[hit.entryID]?.rank ?? -.infinity) < hit.rank {
                found[hit.entryID] = hit
            }
        }
        return Array(found.values.sorted { $0.rank > $1.rank }.prefix(limit))
    }

    // MARK: Context

    func callContext(_ instance: Instance, run: Run) -> ToolCallContext {
        // An instance run has no task: the run's id stands in for it (log lines and published events name it).
        var context = ToolCallContext(
            tenant: instance.tenantID, taskID: run.id, runID: run.id, instanceID: instance.id,
            timeout: PipelineRunner.defaultStepTimeout, logger: logger)
        context.instanceConfig = instance.config
        return context
    }

    /// The instance as a pipeline sees it (`${instance.config.…}`).
    static func json(_ instance: Instance) -> JSONValue {
        [
            "id": .string(instance.id.lowercasedString), "name": .string(instance.name),
            "config": .object(instance.config),
        ]
    }
}

/// The messages of a chat run's input: a string; `{"messages": [{role, content}…]}`; `{"message": …}` or
/// `{"prompt": …}`; else the input's JSON text as the user's message.
enum ChatInput {
    static func messages(from input: JSONValue) throws -> [JSONValue] {
        if case .string(let text) = input { return [["role": "user", "content": .string(text)]] }
        if case .array(let list)? = input["messages"] {
            for (index, message) in list.enumerated() {
                guard message["role"]?.stringValue != nil, message["content"]?.stringValue != nil else {
                    throw PermanentRunFailure("input.messages[\(index)] must be an object with string role and content")
                }
            }
            guard !list.isEmpty else { throw PermanentRunFailure("input.messages must not be empty") }
            return list
        }
        for key in ["message", "prompt"] {
            if case .string(let text)? = input[key] { return [["role": "user", "content": .string(text)]] }
        }
        return [["role": "user", "content": .string(input.jsonText)]]
    }
}

/// Token usage objects (`prompt_tokens`, `completion_tokens`, `total_tokens`) added up.
enum TokenCount {
    static func sum(_ usages: [JSONValue]) -> JSONValue {
        guard !usages.isEmpty else { return .null }
        var total: [String: JSONValue] = [:]
        for key in ["prompt_tokens", "completion_tokens", "total_tokens"] {
            total[key] = .int(Int64(usages.compactMap { $0[key]?.numberValue }.reduce(0, +)))
        }
        return .object(total)
    }
}
