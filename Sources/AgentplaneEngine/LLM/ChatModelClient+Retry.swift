import AgentplaneCore
import Foundation

/// Why one attempt at a chat completion failed.
enum AttemptError: Error, Equatable {
    /// The endpoint answered a status outside 2xx (its message, and how long it asked to wait).
    case status(Int, message: String, retryAfter: Duration?)
    /// No answer: the connection failed or was lost before any content.
    case connection(String)
    /// A 2xx answer that is not a chat completion.
    case invalid(String)
    /// The answer passed `maximumResponseBytes`.
    case tooLarge(delivered: Bool)
    /// The stream failed after some content had been handed on.
    case broken(String)

    /// The failure in words, naming the host.
    func summary(host: String) -> String {
        switch self {
        case .status(let code, let message, _): "the model endpoint \(host) answered \(code): \(message)"
        case .connection(let detail): "could not get an answer from the model endpoint \(host): \(detail)"
        case .invalid(let detail): "the model endpoint answered something that is not a chat completion: \(detail)"
        case .tooLarge:
            "the model endpoint's answer is larger than \(ChatModelClient.maximumResponseBytes) bytes"
        case .broken(let detail): "the model endpoint \(host) \(detail)"
        }
    }
}

/// What to do after a failed attempt.
enum RetryDecision {
    /// Wait, then try again.
    case retry(after: Duration)
    /// Give up with this failure.
    case fail(ToolFailure)
}

extension ChatModelClient {
    /// The retry decision (pure): 429, 5xx and lost connections are tried again while retries are left
    /// (waiting `Retry-After`, else the backoff), then fail retryable; any other 4xx, an answer that is not a
    /// completion, an oversized answer and a broken stream fail at once. A garbage 200 is not retryable: it
    /// comes from a misconfigured endpoint (a web page, a wrong path) far more often than from a hiccup.
    static func decide(_ error: AttemptError, attempt: Int, maxRetries: Int, host: String) -> RetryDecision {
        let summary = error.summary(host: host)
        let spent = attempt > maxRetries
        let tries = attempt == 1 ? "" : " (after \(attempt) attempts)"
        switch error {
        case .status(let code, _, let retryAfter) where code == 429 || code >= 500:
            if spent { return .fail(ToolFailure(summary + tries, retryable: true)) }
            return .retry(after: retryAfter.map { min($0, maximumRetryAfter) } ?? backoff(afterAttempt: attempt))
        case .connection:
            if spent { return .fail(ToolFailure(summary + tries, retryable: true)) }
            return .retry(after: backoff(afterAttempt: attempt))
        case .status, .invalid, .tooLarge:
            return .fail(ToolFailure(summary + tries, retryable: false))
        case .broken:
            return .fail(ToolFailure(summary + tries, retryable: true))
        }
    }

    /// The wait after the n-th failed attempt: 0.5 s, 1 s, 2 s, … at most `maximumBackoff`.
    static func backoff(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 16)
        return min(.milliseconds(500 * (1 << exponent)), maximumBackoff)
    }

    /// A `Retry-After` header as a wait: delay seconds or an HTTP date (past dates wait nothing).
    static func retryAfter(_ header: String?, now: Date) -> Duration? {
        guard let text = header?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if let seconds = Double(text), seconds.isFinite, seconds >= 0 {
            return .milliseconds(Int64(min(seconds, 86_400) * 1000))
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) {
                let seconds = min(max(0, date.timeIntervalSince(now)), 86_400)
                return .milliseconds(Int64(seconds * 1000))
            }
        }
        return nil
    }

    /// The provider's words from an error body: OpenAI's `{"error":{"message":…}}` (or a string `error` or
    /// `message`), else the body's first 500 bytes.
    static func errorMessage(_ bytes: [UInt8]) -> String {
        if let json = JSONValue(parsing: bytes) {
            if let message = json["error"]?["message"]?.stringValue ?? json["error"]?.stringValue
                ?? json["message"]?.stringValue
            {
                return message
            }
        }
        let snippet = String(decoding: bytes.prefix(500), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return snippet.isEmpty ? "(no body)" : snippet
    }
}
