import AgentplaneCore
import Foundation

extension BuiltInToolbox {
    /// The longest `timeout_seconds` of `llm.chat`.
    public static let maximumChatTimeoutSeconds = 600.0
    /// The most retries `llm.chat` makes within one call.
    public static let maximumChatRetries = 10

    /// `llm.chat`: asks an OpenAI-compatible endpoint for a chat completion. Input: `prompt` (one user
    /// message) and/or `messages` (`[{role, content}]`), `system`, `endpoint` (base URL such as
    /// `https://api.openai.com/v1`), `model`, `api_key_secret` (the name of a tenant secret holding the key),
    /// `temperature`, `max_tokens`, `timeout_seconds` (default 60, at most 600 and the step's timeout),
    /// `max_retries` (default 3, 0…10), `stream` (default: whether the caller listens to `context.output`).
    /// A setting the input leaves out comes from the instance's configuration (`system` from its
    /// `system_prompt`). Answers `content`, `finish_reason`, `model`, `usage` (or null) and `attempts`;
    /// streamed deltas go to `context.output` as they arrive.
    func chat(_ input: [String: JSONValue], context: ToolCallContext) async throws -> JSONValue {
        let chat = try LLMChatInput(input, config: context.instanceConfig ?? [:])
        var apiKey: String?
        if let name = chat.apiKeySecret {
            apiKey = try await useCases.secretValues(Set([name]), tenant: context.tenant)[name]
            guard apiKey != nil else {
                throw ToolFailure(
                    "llm.chat: the tenant has no secret named '\(name)' (api_key_secret)", retryable: false)
            }
        }
        let request = ChatRequest(
            baseURL: chat.endpoint, model: chat.model, messages: chat.messages, temperature: chat.temperature,
            maxTokens: chat.maxTokens, apiKey: apiKey, timeout: min(chat.timeout, context.timeout),
            maxRetries: chat.maxRetries)
        let completion: ChatCompletion
        do {
            completion = try await chatClient.logging(to: context.logger).complete(
                request, stream: chat.stream ?? (context.output != nil), onDelta: context.output)
        } catch let failure as ToolFailure {
            throw ToolFailure("llm.chat: \(failure.description)", retryable: failure.retryable)
        }
        return [
            "content": .string(completion.content),
            "finish_reason": completion.finishReason.map(JSONValue.string) ?? .null,
            "model": completion.model.map(JSONValue.string) ?? .null, "usage": completion.usage?.json ?? .null,
            "attempts": .int(Int64(completion.attempts)),
        ]
    }
}

/// The input of `llm.chat`, checked, with the instance's configuration filling what it leaves out.
struct LLMChatInput {
    var endpoint: URL
    var model: String
    var messages: [ChatMessage]
    var apiKeySecret: String?
    var temperature: Double?
    var maxTokens: Int?
    var timeout: Duration
    var maxRetries: Int
    var stream: Bool?

    /// Reads `input`; a failure names the field (and says when the value came from the instance).
    init(_ input: [String: JSONValue], config: [String: JSONValue]) throws {
        let fields = Fields(input: input, config: config)
        guard let endpoint = try fields.string("endpoint") else {
            throw ToolFailure(
                "llm.chat needs an 'endpoint' (in the input or the instance's config)", retryable: false)
        }
        guard let url = URL(string: endpoint), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", url.host != nil
        else { throw ToolFailure("llm.chat: 'endpoint' must be an http(s) URL", retryable: false) }
        guard let model = try fields.string("model"), !model.isEmpty else {
            throw ToolFailure("llm.chat needs a 'model' (in the input or the instance's config)", retryable: false)
        }
        self.endpoint = url
        self.model = model
        apiKeySecret = try fields.string("api_key_secret")
        temperature = try fields.number("temperature", in: 0...2)
        maxTokens = try fields.number("max_tokens", in: 1...10_000_000, integer: true).map { Int($0) }
        let seconds = try fields.number("timeout_seconds", in: 0.001...BuiltInToolbox.maximumChatTimeoutSeconds)
        timeout = .milliseconds(Int64((seconds ?? 60) * 1000))
        maxRetries =
            try fields.number("max_retries", in: 0...Double(BuiltInToolbox.maximumChatRetries), integer: true)
            .map { Int($0) } ?? 3
        switch input["stream"] {
        case nil, .null?: stream = nil
        case .bool(let value)?: stream = value
        default: throw ToolFailure("llm.chat: 'stream' must be true or false", retryable: false)
        }
        messages = try Self.messages(input)
        let system = try fields.string("system", configKey: "system_prompt")
        if let system, fields.given("system") || !messages.contains(where: { $0.role == "system" }) {
            messages.insert(ChatMessage(role: "system", content: system), at: 0)
        }
    }

    /// `messages`, then `prompt` as a user message; at least one of them.
    static func messages(_ input: [String: JSONValue]) throws -> [ChatMessage] {
        var messages: [ChatMessage] = []
        if let given = input["messages"], given != .null {
            guard let list = given.arrayValue else {
                throw ToolFailure("llm.chat: 'messages' must be an array of {role, content}", retryable: false)
            }
            for (index, item) in list.enumerated() {
                guard let role = item["role"]?.stringValue, let content = item["content"]?.stringValue else {
                    throw ToolFailure(
                        "llm.chat: messages[\(index)] needs a string 'role' and a string 'content'", retryable: false)
                }
                messages.append(ChatMessage(role: role, content: content))
            }
        }
        switch input["prompt"] {
        case nil, .null?: break
        case .string(let prompt)?: messages.append(ChatMessage(role: "user", content: prompt))
        default: throw ToolFailure("llm.chat: 'prompt' must be a string", retryable: false)
        }
        guard !messages.isEmpty else {
            throw ToolFailure("llm.chat needs a 'prompt' or 'messages'", retryable: false)
        }
        return messages
    }

    /// A setting from the input, else from the instance's configuration.
    struct Fields {
        var input: [String: JSONValue]
        var config: [String: JSONValue]

        /// Whether the input itself gives `key`.
        func given(_ key: String) -> Bool { input[key].map { $0 != .null } ?? false }

        /// The value and where it came from, for messages.
        func value(_ key: String, configKey: String? = nil) -> (JSONValue, String)? {
            if let value = input[key], value != .null { return (value, "'\(key)'") }
            let configKey = configKey ?? key
            if let value = config[configKey], value != .null { return (value, "the instance's config '\(configKey)'") }
            return nil
        }

        func string(_ key: String, configKey: String? = nil) throws -> String? {
            guard let (value, name) = value(key, configKey: configKey) else { return nil }
            guard let text = value.stringValue else {
                throw ToolFailure("llm.chat: \(name) must be a string", retryable: false)
            }
            return text
        }

        func number(_ key: String, in range: ClosedRange<Double>, integer: Bool = false) throws -> Double? {
            guard let (value, name) = value(key) else { return nil }
            guard let number = value.numberValue, range.contains(number), !integer || number.rounded() == number
            else {
                let kind = integer ? "an integer" : "a number"
                throw ToolFailure(
                    "llm.chat: \(name) must be \(kind) from \(Self.text(range.lowerBound)) to "
                        + "\(Self.text(range.upperBound))",
                    retryable: false)
            }
            return number
        }

        /// A bound without a needless `.0`.
        static func text(_ number: Double) -> String {
            number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        }
    }
}
