import Foundation

/// How an instance runs (DESIGN §6): its agent declares it in `default_config`, the instance may override it.
public enum RuntimeKind: String, Sendable, CaseIterable, Codable {
    /// The instance's `pipeline_config.pipeline`, through the pipeline runner (the steps of a task's payload).
    case pipeline
    /// A chat model (any OpenAI-compatible endpoint) with the instance's settings and, when asked, context
    /// from its knowledge base.
    case chat
    /// An external agent service at `endpoint` (a LangGraph, CrewAI or any HTTP agent): Idun's case.
    case http
}

/// What an instance's effective configuration says about how it runs. The keys are flat members of the
/// configuration (so an agent's `default_config` sets them and an instance's `config` overrides them):
///
/// | key | runtimes | meaning |
/// | --- | --- | --- |
/// | `runtime` | all | `pipeline`, `chat` or `http`; when absent: `pipeline` if `pipeline_config` has a `pipeline`, `chat` if `model` and `endpoint` are set, `http` if `endpoint` is |
/// | `endpoint` | chat, http | the model's OpenAI-compatible base URL (`https://api.openai.com/v1`), or the agent service's URL |
/// | `model`, `api_key_secret`, `system_prompt`, `temperature`, `max_tokens` | chat (and `llm.chat` steps) | the model and its settings; the key is the *name* of a tenant secret |
/// | `knowledge_base_top_k` | chat | how many knowledge-base hits go into the prompt (0: none) |
/// | `run_path` | http | the path below `endpoint` a run is posted to (default: the endpoint itself) |
/// | `health_path` | http | the path below `endpoint` the health probe asks (default: the endpoint itself) |
/// | `timeout_seconds` | all | how long one run (or one gateway call) may take, 1–3600 (default 120) |
public struct InstanceRuntime: Sendable, Hashable {
    /// The runtime.
    public var kind: RuntimeKind
    /// `endpoint`, for `chat` and `http`.
    public var endpoint: URL?
    /// The pipeline, for `pipeline`.
    public var pipeline: Pipeline?
    /// How long a run may take.
    public var timeoutSeconds: Double

    /// A run's default timeout.
    public static let defaultTimeoutSeconds = 120.0
    /// The configuration keys with a meaning for the runtime, and the JSON kind each must have.
    static let keyKinds: [(key: String, kind: String)] = [
        ("runtime", "string"), ("endpoint", "string"), ("model", "string"), ("api_key_secret", "string"),
        ("system_prompt", "string"), ("temperature", "number"), ("max_tokens", "integer"),
        ("knowledge_base_top_k", "integer"), ("run_path", "string"), ("health_path", "string"),
        ("timeout_seconds", "number"),
    ]

    /// Field errors of the runtime keys of a configuration (`pointer` is `/config` or `/default_config`):
    /// each key that is present and not null must have its kind and range. Checked when an agent or an
    /// instance is saved.
    public static func configErrors(_ config: [String: JSONValue], pointer: String) -> [FieldError] {
        var errors: [FieldError] = []
        for (key, kind) in keyKinds {
            guard let value = config[key], value != .null else { continue }
            let at = "\(pointer)/\(key)"
            switch (kind, value) {
            case ("string", .string(let text)):
                errors += stringErrors(key, text, at: at)
            case ("number", .int), ("number", .double), ("integer", .int):
                errors += rangeErrors(key, value.numberValue ?? 0, at: at)
            default:
                errors.append(
                    FieldError(pointer: at, message: "must be \(kind == "integer" ? "an integer" : "a \(kind)")"))
            }
        }
        return errors
    }

    private static func stringErrors(_ key: String, _ text: String, at pointer: String) -> [FieldError] {
        switch key {
        case "runtime" where RuntimeKind(rawValue: text) == nil:
            return [FieldError(pointer: pointer, message: "must be one of pipeline, chat, http")]
        case "endpoint" where InstanceDecisions.endpointURL(.string(text)) == nil:
            return [FieldError(pointer: pointer, message: "must be an absolute http or https URL")]
        case "run_path", "health_path":
            guard text.hasPrefix("/"), text.utf8.count <= 1000, !text.contains(where: { $0.isWhitespace }) else {
                return [FieldError(pointer: pointer, message: "must be a path starting with / (no spaces)")]
            }
        case "model", "api_key_secret":
            guard !text.isEmpty, text.utf8.count <= 200 else {
                return [FieldError(pointer: pointer, message: "must be 1 to 200 characters")]
            }
        default: break
        }
        return []
    }

    private static func rangeErrors(_ key: String, _ number: Double, at pointer: String) -> [FieldError] {
        let ranges: [String: ClosedRange<Double>] = [
            "temperature": 0...2, "max_tokens": 1...1_000_000, "knowledge_base_top_k": 0...20,
            "timeout_seconds": 1...3600,
        ]
        guard let range = ranges[key], !range.contains(number) else { return [] }
        return [
            FieldError(
                pointer: pointer, message: "must be between \(range.lowerBound.short) and \(range.upperBound.short)")
        ]
    }

    /// The runtime the configuration declares, or the one it implies (nil: the instance does not run).
    public static func kind(config: [String: JSONValue], pipelineConfig: JSONValue) -> RuntimeKind? {
        if case .string(let text)? = config["runtime"] { return RuntimeKind(rawValue: text) }
        if pipelineConfig.objectValue?["pipeline"] != nil { return .pipeline }
        let hasEndpoint = config["endpoint"].map { $0 != .null } ?? false
        if hasEndpoint, case .string? = config["model"] { return .chat }
        return hasEndpoint ? .http : nil
    }

    /// The instance's runtime, or the field errors that keep it from running (pointers into `/config` and
    /// `/pipeline_config`). Nil without errors: the configuration declares no runtime.
    public static func resolve(config: [String: JSONValue], pipelineConfig: JSONValue) -> Result<
        InstanceRuntime?, PipelineError
    > {
        var errors = configErrors(config, pointer: "/config")
        guard let kind = kind(config: config, pipelineConfig: pipelineConfig) else {
            return errors.isEmpty ? .success(nil) : .failure(PipelineError(errors))
        }
        let endpoint = InstanceDecisions.endpointURL(config["endpoint"])
        var pipeline: Pipeline?
        switch kind {
        case .pipeline:
            do {
                pipeline = try Pipeline.parse(payload: pipelineConfig, pointer: "/pipeline_config")
            } catch {
                errors += error.fieldErrors
            }
        case .chat:
            if endpoint == nil, config["endpoint"] == nil || config["endpoint"] == .null {
                errors.append(FieldError(pointer: "/config/endpoint", message: "is required by the chat runtime"))
            }
            if config["model"] == nil || config["model"] == .null {
                errors.append(FieldError(pointer: "/config/model", message: "is required by the chat runtime"))
            }
        case .http:
            if endpoint == nil, config["endpoint"] == nil || config["endpoint"] == .null {
                errors.append(FieldError(pointer: "/config/endpoint", message: "is required by the http runtime"))
            }
        }
        guard errors.isEmpty else { return .failure(PipelineError(errors)) }
        let timeout = config["timeout_seconds"]?.numberValue ?? defaultTimeoutSeconds
        return .success(InstanceRuntime(kind: kind, endpoint: endpoint, pipeline: pipeline, timeoutSeconds: timeout))
    }

    /// `endpoint` followed by a configured path (`run_path`, `health_path`), or the endpoint itself.
    public static func url(_ endpoint: URL, path: JSONValue?) -> URL {
        guard case .string(let path)? = path, !path.isEmpty else { return endpoint }
        var base = endpoint.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        return URL(string: base + path) ?? endpoint
    }
}

extension Double {
    /// `2` for 2.0, `0.5` for 0.5.
    fileprivate var short: String { self == rounded() ? String(Int64(self)) : String(self) }
}
