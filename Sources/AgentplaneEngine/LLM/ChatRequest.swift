import AgentplaneCore
import Foundation

/// One message of a chat: `role` is `system`, `user`, `assistant` (or whatever the provider accepts).
public struct ChatMessage: Sendable, Hashable {
    /// Who speaks.
    public var role: String
    /// What is said.
    public var content: String

    /// Creates a message.
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    /// The message as the chat-completions API takes it.
    public var json: JSONValue { ["role": .string(role), "content": .string(content)] }
}

/// The tokens a completion cost, as the provider counted them.
public struct TokenUsage: Sendable, Hashable {
    /// Tokens of the messages sent.
    public var promptTokens: Int
    /// Tokens of the answer.
    public var completionTokens: Int
    /// Both.
    public var totalTokens: Int

    /// Creates a usage record.
    public init(promptTokens: Int, completionTokens: Int, totalTokens: Int) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.totalTokens = totalTokens
    }

    /// Reads OpenAI's `usage` object; nil when it is not one (a missing total is the sum of the parts).
    public init?(json: JSONValue?) {
        guard let json, json.objectValue != nil else { return nil }
        let prompt = json["prompt_tokens"]?.numberValue.map { Int($0) }
        let completion = json["completion_tokens"]?.numberValue.map { Int($0) }
        guard prompt != nil || completion != nil else { return nil }
        self.promptTokens = prompt ?? 0
        self.completionTokens = completion ?? 0
        self.totalTokens = json["total_tokens"]?.numberValue.map { Int($0) } ?? (prompt ?? 0) + (completion ?? 0)
    }

    /// The usage as OpenAI writes it (`prompt_tokens`, `completion_tokens`, `total_tokens`).
    public var json: JSONValue {
        [
            "prompt_tokens": .int(Int64(promptTokens)), "completion_tokens": .int(Int64(completionTokens)),
            "total_tokens": .int(Int64(totalTokens)),
        ]
    }
}

/// A chat completion to ask an OpenAI-compatible endpoint for.
public struct ChatRequest: Sendable {
    /// The API's base URL, e.g. `https://api.openai.com/v1`; the request goes to `<baseURL>/chat/completions`.
    public var baseURL: URL
    /// The model's name.
    public var model: String
    /// The conversation so far.
    public var messages: [ChatMessage]
    /// Sampling temperature (the provider's default when nil).
    public var temperature: Double?
    /// The most tokens of the answer (the provider's default when nil).
    public var maxTokens: Int?
    /// Sent as `Authorization: Bearer …` when set; never logged, never part of an error.
    public var apiKey: String?
    /// How long the whole call may take, retries and their waits included.
    public var timeout: Duration
    /// How many times a 429, a 5xx or a lost connection is tried again within the call.
    public var maxRetries: Int

    /// Creates a request.
    public init(
        baseURL: URL, model: String, messages: [ChatMessage], temperature: Double? = nil, maxTokens: Int? = nil,
        apiKey: String? = nil, timeout: Duration = .seconds(60), maxRetries: Int = 3
    ) {
        self.baseURL = baseURL
        self.model = model
        self.messages = messages
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.apiKey = apiKey
        self.timeout = timeout
        self.maxRetries = maxRetries
    }

    /// The JSON body of the request; a streamed one asks for the usage in the last chunk.
    func body(stream: Bool) -> JSONValue {
        var body: [String: JSONValue] = ["model": .string(model), "messages": .array(messages.map(\.json))]
        if let temperature { body["temperature"] = .double(temperature) }
        if let maxTokens { body["max_tokens"] = .int(Int64(maxTokens)) }
        if stream {
            body["stream"] = .bool(true)
            body["stream_options"] = ["include_usage": .bool(true)]
        }
        return .object(body)
    }
}

/// What the model answered.
public struct ChatCompletion: Sendable, Hashable {
    /// The answer's text (the deltas of a stream, joined).
    public var content: String
    /// Why the model stopped (`stop`, `length`, …); nil when the provider did not say.
    public var finishReason: String?
    /// The tokens used, when the provider reported them.
    public var usage: TokenUsage?
    /// The model that answered, as the provider names it.
    public var model: String?
    /// How many requests the call took (1 without retries).
    public var attempts: Int

    /// Creates a completion.
    public init(content: String, finishReason: String?, usage: TokenUsage?, model: String?, attempts: Int) {
        self.content = content
        self.finishReason = finishReason
        self.usage = usage
        self.model = model
        self.attempts = attempts
    }
}
