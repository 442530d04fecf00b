import AgentplaneCore
import AgentplaneTesting
import Foundation
import GRDB
import HTTPTypes
import HummingbirdTesting
import Testing

/// Every error is RFC 9457 problem+json with a stable code, and bad input changes nothing.
@Suite struct ProblemTests {
    static func expectProblem(
        _ response: TestResponse,
        status: HTTPResponse.Status,
        code: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> JSONValue {
        #expect(response.status == status, sourceLocation: sourceLocation)
        #expect(response.headers[.contentType] == "application/problem+json", sourceLocation: sourceLocation)
        let body = try response.json()
        #expect(body["code"] == .string(code), sourceLocation: sourceLocation)
        #expect(body["status"] == .int(Int64(status.code)), sourceLocation: sourceLocation)
        for field in ["type", "title", "detail", "instance", "trace_id", "request_id"] {
            #expect(body[field]?.stringValue?.isEmpty == false, "missing \(field)", sourceLocation: sourceLocation)
        }
        return body
    }

    @Test(arguments: TestBackend.allCases)
    func unknownRoutesAndWrongMethods(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            _ = try Self.expectProblem(
                try await client.request(.get, "/nope", key: nil), status: .notFound, code: "ROUTE_NOT_FOUND")
            let wrongMethod = try await client.request(.delete, "/health", key: nil)
            _ = try Self.expectProblem(wrongMethod, status: .methodNotAllowed, code: "METHOD_NOT_ALLOWED")
            #expect(wrongMethod.headers[.allow] == "GET")
            let patchEvents = try await client.request(.patch, "/api/v1/events", json: "{}")
            _ = try Self.expectProblem(patchEvents, status: .methodNotAllowed, code: "METHOD_NOT_ALLOWED")
            #expect(patchEvents.headers[.allow] == "GET, POST")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func malformedJSONNamesThePosition(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let response = try await client.request(.post, "/api/v1/events", json: "{\n  \"type\": tru }")
            let body = try Self.expectProblem(response, status: .badRequest, code: "MALFORMED_JSON")
            #expect(body["detail"]?.stringValue?.contains("line 2, column ") == true)
            let truncated = try await client.request(.post, "/api/v1/events", json: #"{"type":"a.b","data":{"#)
            _ = try Self.expectProblem(truncated, status: .badRequest, code: "MALFORMED_JSON")
            // Nothing was appended: only the bootstrap key's event is in the log.
            let log = try await client.request(.get, "/api/v1/events").json()
            #expect(log["events"]?.arrayValue?.count == 1)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func lenientJSONAndMissingBodiesAreRefused(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let trailingComma = try await client.request(.post, "/api/v1/events", json: #"{"type":"a.b",}"#)
            let body = try Self.expectProblem(trailingComma, status: .badRequest, code: "MALFORMED_JSON")
            #expect(body["details"] == .object(["line": .int(1), "column": .int(15)]))
            // No body at all, with and without a content type: a clear 4xx, and the server stays up.
            let bare = try await client.execute(
                uri: "/api/v1/events",
                method: .post,
                headers: [.authorization: "Bearer \(testAdminKey)"]
            )
            #expect((400..<500).contains(bare.status.code))
            #expect(bare.headers[.contentType] == "application/problem+json")
            let empty = try await client.request(.post, "/api/v1/events", json: "")
            _ = try Self.expectProblem(empty, status: .badRequest, code: "MALFORMED_JSON")
            #expect(try await client.request(.get, "/health", key: nil).status == .ok)
            // A GET with a stray JSON content type and no body is an ordinary GET.
            let get = try await client.request(.get, "/api/v1/events", headers: [.contentType: "application/json"])
            #expect(get.status == .ok)
            let log = try await client.request(.get, "/api/v1/events").json()
            #expect(log["events"]?.arrayValue?.count == 1)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func schemaViolationsListEveryField(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let wrongType = try await client.request(.post, "/api/v1/events", json: #"{"type": 5}"#)
            let body = try Self.expectProblem(wrongType, status: .unprocessableContent, code: "VALIDATION_FAILED")
            #expect(body["errors"] == .array([.object(["pointer": "/type", "message": "must be a string"])]))
            let missing = try await client.request(.post, "/api/v1/events", json: #"{"subject": "x"}"#)
            let missingBody = try Self.expectProblem(missing, status: .unprocessableContent, code: "VALIDATION_FAILED")
            #expect(missingBody["errors"]?.arrayValue?.first?["pointer"] == "/type")
            let badType = try await client.request(
                .post,
                "/api/v1/events",
                json: #"{"type": "Not A Type", "subject": "", "data": {"k": "nul\u0000"}}"#
            )
            let badBody = try Self.expectProblem(badType, status: .unprocessableContent, code: "VALIDATION_FAILED")
            let pointers = badBody["errors"]?.arrayValue?.compactMap { $0["pointer"]?.stringValue } ?? []
            #expect(Set(pointers) == ["/type", "/subject", "/data/k"])
            let badTime = try await client.request(
                .post, "/api/v1/events", json: #"{"type": "a.b", "time": "yesterday"}"#)
            _ = try Self.expectProblem(badTime, status: .unprocessableContent, code: "VALIDATION_FAILED")
            let badLimit = try await client.request(.get, "/api/v1/events?limit=abc")
            let limitBody = try Self.expectProblem(badLimit, status: .badRequest, code: "BAD_REQUEST")
            #expect(
                Set(limitBody["errors"]?.arrayValue?.compactMap { $0["pointer"]?.stringValue } ?? []) == ["limit"])
            let badEnum = try await client.request(.get, "/api/v1/instances?status=bogus")
            let enumBody = try Self.expectProblem(badEnum, status: .badRequest, code: "BAD_REQUEST")
            #expect(
                enumBody["errors"]
                    == .array([
                        .object([
                            "pointer": "status",
                            "message": "must be one of pending, provisioning, running, failed, stopped",
                        ])
                    ]))
            #expect(!badEnum.text.contains("InstanceStatus"))
            let array = try await client.request(.post, "/api/v1/events", json: "[1]")
            let arrayBody = try Self.expectProblem(array, status: .unprocessableContent, code: "VALIDATION_FAILED")
            #expect(arrayBody["detail"] == "must be an object")
            let outOfRange = try await client.request(.get, "/api/v1/events?limit=5000&after=not-a-position")
            let rangeBody = try Self.expectProblem(outOfRange, status: .badRequest, code: "BAD_REQUEST")
            #expect(rangeBody["errors"]?.arrayValue?.count == 2)
            let badTenant = try await client.request(.get, "/api/v1/events", headers: [.tenantID: "not-a-uuid"])
            _ = try Self.expectProblem(badTenant, status: .badRequest, code: "BAD_REQUEST")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func oversizedBodiesAreRefusedWith413(backend: TestBackend) async throws {
        try await withLiveServer(backend, maximumBodyBytes: 2048) { client, _ in
            let data = String(repeating: "x", count: 4096)
            let response = try await client.request(.post, "/api/v1/events", json: #"{"type":"a.b","data":"\#(data)"}"#)
            _ = try Self.expectProblem(response, status: .contentTooLarge, code: "PAYLOAD_TOO_LARGE")
            let fits = try await client.request(.post, "/api/v1/events", json: #"{"type":"a.b","data":"small"}"#)
            #expect(fits.status == .created)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func wrongMediaTypeIs415(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let response = try await client.request(
                .post,
                "/api/v1/events",
                json: "type=a.b",
                headers: [.contentType: "application/x-www-form-urlencoded"]
            )
            _ = try Self.expectProblem(response, status: .unsupportedMediaType, code: "UNSUPPORTED_MEDIA_TYPE")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func missingOrInvalidCredentialsAre401(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let attempts: [String?] = [
                nil, "ap_testadmn_wrongsecretwrongsecretwrongsecret00",
                "ap_nothere1_" + String(repeating: "a", count: 40),
                "not-a-key", "",
            ]
            for key in attempts {
                let response = try await client.request(.get, "/api/v1/events", key: key)
                _ = try Self.expectProblem(response, status: .unauthorized, code: "UNAUTHENTICATED")
                #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            }
            let basic = try await client.execute(
                uri: "/api/v1/events",
                method: .get,
                headers: [.authorization: "Basic dXNlcjpwYXNz"]
            )
            _ = try Self.expectProblem(basic, status: .unauthorized, code: "UNAUTHENTICATED")
            // The public metrics alias needs no credential.
            #expect(try await client.request(.get, "/api/v1/metrics", key: nil).status == .ok)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func requestIDsAreEchoedOrGenerated(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let echoed = try await client.request(.get, "/health", key: nil, headers: [.requestID: "my-request-42"])
            #expect(echoed.headers[.requestID] == "my-request-42")
            let generated = try await client.request(.get, "/health", key: nil)
            #expect(generated.headers[.requestID].flatMap(UUID.init(uuidString:)) != nil)
            let hostile = try await client.request(.get, "/nope", key: nil, headers: [.requestID: "bad id <script>"])
            #expect(hostile.headers[.requestID] != "bad id <script>")
            #expect(try hostile.json()["request_id"] == hostile.headers[.requestID].map(JSONValue.string))
            // traceparent's trace id is carried into problems.
            let traced = try await client.request(
                .get,
                "/nope",
                key: nil,
                headers: [.traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]
            )
            #expect(try traced.json()["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736")
        }
    }

    /// A genuine internal failure (a damaged row) is a 500 with a trace id and nothing internal.
    @Test func internalFailuresRevealNoInternals() async throws {
        try await withLiveServer(.sqlite) { client, database in
            let queue = try DatabaseQueue(path: database.sqlitePath)
            try await queue.write { db in try db.execute(sql: "UPDATE events SET data = '{not json'") }
            let response = try await client.request(.get, "/api/v1/events")
            let body = try Self.expectProblem(response, status: .internalServerError, code: "INTERNAL_ERROR")
            let text = response.text.lowercased()
            for leak in ["sqlite", "select", "grdb", "corrupt", "decode", "swift"] {
                #expect(!text.contains(leak), "problem mentions \(leak)")
            }
            #expect(body["trace_id"]?.stringValue?.count == 32)
        }
    }
}

extension HTTPField.Name {
    static let requestID = Self("X-Request-ID")!
    static let tenantID = Self("X-Tenant-ID")!
    static let traceparent = Self("traceparent")!
}
