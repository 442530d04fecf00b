import AgentplaneCore
import AgentplaneStore
import Foundation
import HTTPTypes
import Hummingbird

/// An RFC 9457 problem document, the body of every error response.
struct Problem: Encodable {
    var type: String
    var title: String
    var status: Int
    var detail: String
    var instance: String
    var code: String
    var traceID: String
    var requestID: String
    var errors: [FieldError]?
    var details: [String: JSONValue]?

    enum CodingKeys: String, CodingKey {
        case type, title, status, detail, instance, code, errors, details
        case traceID = "trace_id"
        case requestID = "request_id"
    }

    init(_ error: AgentplaneError, path: String, scope: RequestScope) {
        self.type = error.code.typeURI
        self.title = error.code.title
        self.status = error.code.status
        self.detail = error.detail
        self.instance = path
        self.code = error.code.rawValue
        self.traceID = scope.traceID
        self.requestID = scope.requestID
        self.errors = error.fieldErrors.isEmpty ? nil : error.fieldErrors
        self.details = error.details.isEmpty ? nil : error.details
    }

    /// The response carrying this problem, with `headers` added.
    func response(headers extra: HTTPFields = [:]) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(self)) ?? Data(#"{"title":"Internal server error","status":500}"#.utf8)
        var headers = extra
        headers[.contentType] = "application/problem+json"
        return Response(
            status: HTTPResponse.Status(code: status),
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}

extension StoreError {
    /// The client-facing error for a store failure: internals stay in the log.
    var agentplaneError: AgentplaneError {
        switch kind {
        case .uniqueViolation(.eventID):
            AgentplaneError(.eventIDConflict, "An event with this id already exists for the tenant.")
        case .uniqueViolation:
            AgentplaneError(.conflict, "A resource with the same unique value already exists.")
        case .quotaExceeded(let limit):
            AgentplaneError(
                .quotaExceeded,
                "The tenant's quota of \(limit) is used up.",
                details: ["limit": .int(Int64(limit))]
            )
        case .staleVersion:
            AgentplaneError(.preconditionFailed, "The resource changed since it was read; read it again and retry.")
        case .notFound:
            AgentplaneError(.notFound, "The resource does not exist.")
        case .unavailable, .serializationFailure:
            AgentplaneError(.databaseUnavailable, "The database is unavailable; retry later.")
        case .incompatibleSchema, .corruptData, .other:
            AgentplaneError(.internalError, "The server could not complete the request.")
        }
    }
}
