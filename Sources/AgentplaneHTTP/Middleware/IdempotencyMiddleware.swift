import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `Idempotency-Key` on every POST (seed 002): the first response is stored per tenant, principal and
/// key, and replayed byte for byte for 24 hours; the same key with a different request is a 422; a
/// duplicate that arrives while the first is running gets 409 `IDEMPOTENCY_IN_PROGRESS`.
struct IdempotencyMiddleware<Context: RequestContext>: RouterMiddleware {
    let store: any IdempotencyStore
    /// Route templates whose responses carry a secret (`x-secret-response` in the contract): the secret
    /// (the top-level `key` member) is never stored, and a replay says so.
    let secretRoutes: Set<String>
    /// Where time comes from.
    let clock: any WallClock
    let lifetime: Duration = .seconds(24 * 3600)

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        // A gateway call's `Idempotency-Key` is the upstream's business (and its answer a stream).
        guard request.method == .post, !GatewayPath.matches(request.uri.path),
            let key = request.headers[.idempotencyKey],
            let principal = RequestScope.current.principal
        else { return try await next(request, context) }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
            throw AgentplaneError(
                .badRequest,
                "Idempotency-Key must be 1 to 255 visible ASCII characters.",
                fieldErrors: [
                    FieldError(pointer: "Idempotency-Key", message: "must be 1 to 255 visible ASCII characters")
                ]
            )
        }
        var request = request
        let body = try await request.collectBody(upTo: .max)
        let scope = IdempotencyScope(
            tenantID: principal.tenantID,
            principalID: principal.id.lowercasedString,
            key: key
        )
        let fingerprint = Self.fingerprint(request, body: body)
        let now = clock.now()
        let expiresAt = Timestamp(
            microsecondsSinceEpoch: now.microsecondsSinceEpoch + lifetime.components.seconds * 1_000_000
        )
        if let existing = try await store.claim(scope, fingerprint: fingerprint, now: now, expiresAt: expiresAt) {
            guard existing.fingerprint == fingerprint else {
                throw AgentplaneError(
                    .idempotencyKeyReused,
                    "This Idempotency-Key was used for a different request; use a new key for a new request."
                )
            }
            guard let stored = existing.response else {
                throw AgentplaneError(
                    .idempotencyInProgress,
                    "A request with this Idempotency-Key is still running; retry shortly to get its response."
                )
            }
            return Self.replay(stored)
        }
        do {
            let response = try await next(request, context)
            var (stored, replayable) = try await Self.capture(response)
            if let route = context.endpointPath, secretRoutes.contains(route) {
                stored.body = Self.redacted(stored.body)
            }
            guard stored.status < 500 else {
                try await store.release(scope)
                return replayable
            }
            try await store.complete(scope, response: stored)
            return replayable
        } catch {
            // The request failed before producing a response: let a retry run it again.
            try? await store.release(scope)
            throw error
        }
    }

    /// The request's identity: method, path and query, acting tenant, content type and body.
    static func fingerprint(_ request: Request, body: ByteBuffer) -> String {
        var hasher = SHA256()
        for part in [
            request.method.rawValue, request.uri.description, request.headers[.tenantID] ?? "",
            request.headers[.contentType] ?? "",
        ] {
            hasher.update(data: Data(part.utf8))
            hasher.update(data: [0])
        }
        hasher.update(data: Data(buffer: body))
        return SecretDigest.hex(hasher.finalize())
    }

    static var replayedHeaders: [HTTPField.Name] { [.contentType, .eTag, .location] }

    /// Reads the response body so it can be stored, and returns an equivalent response to send.
    static func capture(_ response: Response) async throws -> (StoredResponse, Response) {
        let collector = BodyCollector()
        try await response.body.write(CollectingWriter(collector: collector))
        var headers: [String: String] = [:]
        for name in replayedHeaders {
            if let value = response.headers[name] { headers[name.canonicalName] = value }
        }
        let bytes = Array(buffer: collector.buffer)
        var copy = response
        copy.body = ResponseBody(byteBuffer: collector.buffer)
        return (StoredResponse(status: Int(response.status.code), headers: headers, body: bytes), copy)
    }

    /// The body with its top-level `key` (or `signing_secret`, or a stream `ticket`) member replaced by a note: secrets are shown once,
    /// never stored.
    static func redacted(_ body: [UInt8]) -> [UInt8] {
        guard case .object(var members) = JSONValue(parsing: body) else { return body }
        if members["signing_secret"] != nil {
            members["signing_secret"] = .string(
                "(not stored: a signing secret is shown only in its first response; rotate it for a new one)")
        } else if members["ticket"] != nil {
            members["ticket"] = .string("(not stored: a ticket is shown only in its first response; ask for a new one)")
        } else {
            members["key"] = .string("(not stored: a key is shown only in its first response; create a new one)")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(JSONValue.object(members))).map(Array.init) ?? body
    }

    static func replay(_ stored: StoredResponse) -> Response {
        var headers: HTTPFields = [:]
        for (name, value) in stored.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        headers[.idempotentReplayed] = "true"
        return Response(
            status: HTTPResponse.Status(code: stored.status),
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: stored.body))
        )
    }
}

/// Accumulates a response body written through `ResponseBodyWriter`.
final class BodyCollector {
    var buffer = ByteBuffer()
}

struct CollectingWriter: ResponseBodyWriter {
    let collector: BodyCollector

    mutating func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        collector.buffer.writeBuffer(&buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

extension HTTPField.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
    static let idempotentReplayed = Self("Idempotent-Replayed")!
    static let tenantID = Self("X-Tenant-ID")!
}
