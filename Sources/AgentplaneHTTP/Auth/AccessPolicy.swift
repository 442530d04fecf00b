import AgentplaneCore
import HTTPTypes
import OpenAPIRuntime

/// What each operation requires, read from the contract: the scopes of its `security` requirement and
/// `x-platform-admin`. One table, so that a new operation cannot forget its check.
struct AccessPolicy: Sendable {
    struct Requirement: Sendable, Hashable {
        /// Scopes, any of which suffices (empty with `isPublic`).
        var scopes: [String]
        /// Only platform admins.
        var platformAdmin: Bool
        /// No credential needed.
        var isPublic: Bool
    }

    private let requirements: [String: Requirement]

    init(document: JSONValue) {
        let defaultSecurity = document["security"]
        var requirements: [String: Requirement] = [:]
        for item in (document["paths"]?.objectValue ?? [:]).values {
            for (_, operation) in item.objectValue ?? [:] {
                guard let id = operation["operationId"]?.stringValue else { continue }
                let security = operation["security"] ?? defaultSecurity
                let alternatives = security?.arrayValue ?? []
                let scopes = alternatives.compactMap { $0["apiKey"]?.arrayValue }.flatMap { $0 }.compactMap(
                    \.stringValue)
                requirements[id] = Requirement(
                    scopes: scopes,
                    platformAdmin: operation["x-platform-admin"] == .bool(true),
                    isPublic: alternatives.isEmpty
                )
            }
        }
        self.requirements = requirements
    }

    /// The requirement of `operationID`; unknown operations require a platform admin (fail closed).
    func requirement(for operationID: String) -> Requirement {
        requirements[operationID] ?? Requirement(scopes: [], platformAdmin: true, isPublic: false)
    }

    /// Throws 401/403 unless `principal` may call `operationID`.
    func authorize(_ principal: Principal?, operationID: String) throws {
        let requirement = requirement(for: operationID)
        if requirement.isPublic { return }
        guard let principal else {
            throw AgentplaneError(.unauthenticated, "This operation needs `Authorization: Bearer <api key>`.")
        }
        if requirement.platformAdmin, principal.role != .platformAdmin {
            throw AgentplaneError(.forbidden, "Only platform admins may \(operationID).")
        }
        // Platform admins too: a platform key limited to `events:read` reads events and nothing else.
        guard requirement.scopes.isEmpty || requirement.scopes.contains(where: { Scope.allows(principal.scopes, $0) })
        else {
            throw AgentplaneError(
                .insufficientScope,
                "This operation needs the scope \(requirement.scopes.map { "`\($0)`" }.joined(separator: " or ")).",
                details: ["required_scopes": .array(requirement.scopes.map(JSONValue.string))]
            )
        }
    }
}

/// Checks every generated operation against the access policy before its handler runs.
struct AuthorizationMiddleware: ServerMiddleware {
    let policy: AccessPolicy

    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        try policy.authorize(RequestScope.current.principal, operationID: operationID)
        return try await next(request, body, metadata)
    }
}
