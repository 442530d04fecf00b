import AgentplaneCore
import AgentplaneStore
import Foundation
import HTTPTypes
import Hummingbird
import OpenAPIRuntime

/// Turns anything a request can throw into the `AgentplaneError` a client sees. One place, so that no
/// expected error becomes a 500 and no driver text reaches a client.
enum ErrorMapping {
    /// The client-facing error; `isInternal` is true when the cause is ours, not the client's.
    static func clientError(for error: any Error) -> (error: AgentplaneError, isInternal: Bool) {
        switch error {
        case let error as AgentplaneError:
            return (error, error.code.status >= 500)
        case let error as StoreError:
            let mapped = error.agentplaneError
            return (mapped, mapped.code.status >= 500)
        case let error as ServerError:
            return serverError(error)
        case let error as AuditWriteFailed:
            return (error.original, true)
        case let error as DecodingError:
            return (decodingError(error, location: .body), false)
        case let error as HTTPError:
            var mapped = httpError(status: error.status)
            if let message = error.body, error.status.code < 500 { mapped.detail = message }
            return (mapped, error.status.code >= 500)
        case let error as any HTTPResponseError:
            return (httpError(status: error.status), error.status.code >= 500)
        default:
            return (AgentplaneError(.internalError, "The server could not complete the request."), true)
        }
    }

    private static func serverError(_ error: ServerError) -> (error: AgentplaneError, isInternal: Bool) {
        switch error.underlyingError {
        case is AgentplaneError, is StoreError, is any HTTPResponseError, is AuditWriteFailed:
            return clientError(for: error.underlyingError)
        case let decoding as DecodingError:
            // Parameters are decoded by the URI coder, bodies by JSONDecoder: a coding path whose first
            // key names a query or header parameter means the parameter was wrong.
            return (decodingError(decoding, location: error.request.method == .get ? .query : .body), false)
        default:
            let status = error.httpStatus
            guard status.code < 500 else {
                return (AgentplaneError(.internalError, "The server could not complete the request."), true)
            }
            var mapped = httpError(status: status)
            mapped.detail = error.causeDescription
            return (mapped, false)
        }
    }

    /// The catalogue entry for a bare HTTP status (router 404s, body limits, generator checks).
    static func httpError(status: HTTPResponse.Status) -> AgentplaneError {
        switch status.code {
        case 404: AgentplaneError(.routeNotFound, "No route matches this path.")
        case 405: AgentplaneError(.methodNotAllowed, "This route does not support the method.")
        case 406: AgentplaneError(.notAcceptable, "The server cannot produce a representation the client accepts.")
        case 413: AgentplaneError(.payloadTooLarge, "The request body is larger than the server accepts.")
        case 415: AgentplaneError(.unsupportedMediaType, "Send the body as `application/json`.")
        case 401: AgentplaneError(.unauthenticated, "Authentication is required.")
        case 403: AgentplaneError(.forbidden, "The credential may not do this.")
        case 400..<500: AgentplaneError(.badRequest, status.reasonPhrase)
        default: AgentplaneError(.internalError, "The server could not complete the request.")
        }
    }

    enum Location { case body, query }

    /// Field-level errors for JSON that parsed but does not fit the schema, or the parse position when
    /// it is not JSON at all.
    static func decodingError(_ error: DecodingError, location: Location) -> AgentplaneError {
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty && location == .body:
            let position = parsePosition(context)
            return AgentplaneError(
                .malformedJSON,
                "The request body is not valid JSON" + (position.map { ": \($0)" } ?? "."),
                fieldErrors: [FieldError(pointer: "", message: position ?? "not valid JSON")]
            )
        case .typeMismatch(let type, let context):
            return fieldError(context, location: location, message: "must be \(describe(type))")
        case .valueNotFound(let type, let context):
            return fieldError(context, location: location, message: "must be \(describe(type)), not null")
        case .keyNotFound(let key, let context):
            return fieldError(
                DecodingError.Context(codingPath: context.codingPath + [key], debugDescription: ""),
                location: location,
                message: "is required"
            )
        case .dataCorrupted(let context):
            return fieldError(context, location: location, message: "has an invalid value")
        @unknown default:
            return AgentplaneError(.badRequest, "The request could not be decoded.")
        }
    }

    private static func fieldError(_ context: DecodingError.Context, location: Location, message: String)
        -> AgentplaneError
    {
        let keys = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
        let pointer =
            location == .body ? keys.map { "/" + $0 }.joined() : keys.joined(separator: ".")
        let error = FieldError(pointer: pointer, message: message)
        guard location == .query else { return .validation([error]) }
        let subject = pointer.isEmpty ? "A query parameter" : "Query parameter `\(pointer)`"
        let explanation = context.debugDescription.isEmpty ? "" : " (\(context.debugDescription))"
        return AgentplaneError(.badRequest, "\(subject) \(message)\(explanation).", fieldErrors: [error])
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        default:
            // Never a Swift type name: clients know JSON, not our types.
            switch String(describing: type) {
            case let name where name.hasPrefix("Array") || (name.hasPrefix("[") && !name.contains(":")): "an array"
            default: "an object"
            }
        }
    }

    /// "line 1, column 9" from the parser's message, when it has one.
    private static func parsePosition(_ context: DecodingError.Context) -> String? {
        let texts = [context.debugDescription, context.underlyingError.map { String(describing: $0) } ?? ""]
        for text in texts {
            if let range = text.range(of: #"line \d+, column \d+"#, options: .regularExpression) {
                let prefix = text[..<range.lowerBound]
                let reason = prefix.components(separatedBy: " around ").first.map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
                return [reason, String(text[range])].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " at ")
            }
            if let range = text.range(of: #"(offset|character) \d+"#, options: .regularExpression) {
                return String(text[range])
            }
        }
        return nil
    }
}
