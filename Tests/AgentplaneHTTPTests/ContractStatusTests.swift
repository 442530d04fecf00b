import AgentplaneCore
import Testing

@testable import AgentplaneHTTP

/// Every status an operation can answer is in the contract (schemathesis checks the rest against a live
/// server). The statuses follow from what the middleware chain and the handlers do with any request:
/// these rules fail when an operation forgets one.
@Suite struct ContractStatusTests {
    struct Operation {
        var id: String
        var path: String
        var method: String
        var value: JSONValue
        var document: JSONValue

        var statuses: Set<String> { Set((value["responses"]?.objectValue ?? [:]).keys) }
        var isAuthenticated: Bool { value["security"]?.arrayValue?.isEmpty != true }
        var hasBody: Bool { value["requestBody"] != nil }
        var parameterNames: Set<String> {
            let references = (value["parameters"]?.arrayValue ?? []).compactMap { $0["$ref"]?.stringValue }
            return Set(references.compactMap { $0.split(separator: "/").last.map(String.init) })
        }
    }

    static func operations() throws -> [Operation] {
        let document = try ContractDocument().document
        var operations: [Operation] = []
        for (path, item) in document["paths"]?.objectValue ?? [:] {
            for method in ["get", "post", "put", "patch", "delete"] {
                guard let value = item[method], let id = value["operationId"]?.stringValue else { continue }
                operations.append(Operation(id: id, path: path, method: method, value: value, document: document))
            }
        }
        return operations.sorted { $0.id < $1.id }
    }

    /// Authentication, authorization, rate limits, the tenant headers (`X-Tenant-ID`, `x-org-id`, a
    /// user's memberships) and the database apply to every authenticated operation.
    @Test func authenticatedOperationsDocumentTheChainsStatuses() throws {
        for operation in try Self.operations() where operation.isAuthenticated {
            let missing = Set(["400", "401", "403", "404", "429", "503"]).subtracting(operation.statuses)
            #expect(missing.isEmpty, "\(operation.id) lacks \(missing.sorted())")
            #expect(
                operation.value["responses"]?["429"]?["$ref"] == "#/components/responses/RateLimited",
                "\(operation.id): 429 should name Retry-After")
        }
    }

    /// A body can be malformed, too large, of another media type, or break the schema's rules.
    @Test func operationsWithABodyDocumentItsStatuses() throws {
        for operation in try Self.operations() where operation.hasBody {
            let missing = Set(["400", "413", "415", "422"]).subtracting(operation.statuses)
            #expect(missing.isEmpty, "\(operation.id) lacks \(missing.sorted())")
        }
    }

    /// Every authenticated POST honours `Idempotency-Key`: in progress is 409, reused is 422.
    @Test func authenticatedPostsTakeAnIdempotencyKey() throws {
        for operation in try Self.operations() where operation.isAuthenticated && operation.method == "post" {
            #expect(operation.parameterNames.contains("IdempotencyKey"), "\(operation.id) lacks Idempotency-Key")
            let missing = Set(["409", "422"]).subtracting(operation.statuses)
            #expect(missing.isEmpty, "\(operation.id) lacks \(missing.sorted())")
        }
    }

    /// `If-Match` can be malformed (400) or stale (412).
    @Test func conditionalWritesDocument412() throws {
        for operation in try Self.operations() where operation.parameterNames.contains("IfMatch") {
            let missing = Set(["400", "412"]).subtracting(operation.statuses)
            #expect(missing.isEmpty, "\(operation.id) lacks \(missing.sorted())")
        }
    }

    /// Every documented error status is one some code of the catalogue answers with.
    @Test func documentedErrorStatusesExistInTheCatalogue() throws {
        let known = Set(ErrorCode.allCases.map { String($0.status) })
        for operation in try Self.operations() {
            let errors = operation.statuses.filter { $0.hasPrefix("4") || $0.hasPrefix("5") }
            let unknown = errors.subtracting(known)
            #expect(unknown.isEmpty, "\(operation.id) documents \(unknown.sorted()), which no code answers")
        }
    }
}
