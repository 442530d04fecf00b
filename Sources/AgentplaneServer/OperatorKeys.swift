import AgentplaneCore
import AgentplaneHTTP
import AgentplaneStore
import Foundation

/// Keys an operator creates from the command line (`agentplane keys create`), for a tenant by slug.
public enum OperatorKeys {
    /// What went wrong, in one line for the terminal.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Creates a key in tenant `slug` with `role` and `scopes` (default: everything the role allows).
    /// Returns the key text, shown once.
    public static func create(
        store: any Store,
        tenantSlug: String,
        role: Role,
        scopes requested: [String]?,
        name: String,
        expiresInDays: Int?
    ) async throws -> APIKeyToken {
        guard role != .platformAdmin || tenantSlug == "platform" else {
            throw Failure(description: "the platform_admin role exists only in the platform tenant")
        }
        guard let tenant = try await store.tenants.find(slug: tenantSlug) else {
            throw Failure(description: "no tenant with the slug '\(tenantSlug)'")
        }
        let scopes = requested ?? Scope.ceiling(for: role).sorted()
        if let unknown = scopes.first(where: { !Scope.isKnown($0) }) {
            throw Failure(
                description:
                    "unknown scope '\(unknown)'; known: \(Scope.catalogue.map(\.scope).joined(separator: ", "))"
            )
        }
        if let excess = scopes.first(where: { !Scope.ceiling(for: role).contains($0) }) {
            throw Failure(description: "the role \(role.rawValue) may not hold the scope '\(excess)'")
        }
        if let expiresInDays, !(1...3650).contains(expiresInDays) {
            throw Failure(description: "--expires-in-days must be between 1 and 3650")
        }
        let now = Timestamp.now()
        let token = APIKeyToken.generate()
        let key = APIKeyRecord(
            id: UUIDv7.make(at: now),
            tenantID: tenant.id,
            prefix: token.prefix,
            secretHash: APIKeyAuthenticator.hash(token),
            name: name,
            role: role,
            scopes: scopes,
            isBootstrap: false,
            createdAt: now,
            expiresAt: expiresInDays.map {
                Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch + Int64($0) * 86_400_000_000)
            }
        )
        try await store.apiKeys.insert(
            key,
            event: NewEvent(
                type: "api_key.created",
                subject: "api_keys/\(key.id.lowercasedString)",
                time: now,
                data: .object([
                    "key_id": .string(key.id.lowercasedString),
                    "prefix": .string(key.prefix),
                    "role": .string(role.rawValue),
                    "scopes": .array(scopes.map(JSONValue.string)),
                    "created_by": .string("operator:cli"),
                ]),
                context: EventContext(userID: "operator:cli")
            )
        )
        return token
    }
}
