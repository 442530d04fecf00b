import AgentplaneCore
import AgentplaneHTTP
import AgentplaneStore
import Foundation
import Logging

/// Creates the first platform-admin API key on an empty database, so the service is usable before
/// any user exists. Only the hash is stored; the key is shown once.
public enum AdminBootstrap {
    /// What happened.
    public enum Outcome: Sendable, Equatable {
        /// A key already existed; nothing was created.
        case alreadyBootstrapped
        /// A key was generated; this is the only time its text is available.
        case generated(APIKeyToken)
        /// The operator-supplied key was stored.
        case supplied(prefix: String)
    }

    /// Ensures the bootstrap key exists; safe when several nodes start at once.
    public static func run(store: any Store, supplied: APIKeyToken?, logger: Logger) async throws -> Outcome {
        if try await store.apiKeys.bootstrapKeyExists() { return .alreadyBootstrapped }
        let token = supplied ?? APIKeyToken.generate()
        let now = Timestamp.now()
        let record = APIKeyRecord(
            id: UUIDv7.make(at: now),
            tenantID: .platform,
            prefix: token.prefix,
            secretHash: APIKeyAuthenticator.hash(token),
            name: "bootstrap platform admin",
            role: .platformAdmin,
            scopes: ["admin:*"],
            isBootstrap: true,
            createdAt: now
        )
        let event = NewEvent(
            type: "api_key.created",
            subject: "api_keys/\(record.id.lowercasedString)",
            time: now,
            data: .object([
                "key_id": .string(record.id.lowercasedString),
                "prefix": .string(record.prefix),
                "role": .string(record.role.rawValue),
                "bootstrap": .bool(true),
            ]),
            context: EventContext(userID: "system")
        )
        do {
            try await store.apiKeys.insert(record, event: event)
        } catch let error as StoreError {
            // Another node won the race (or the supplied key's prefix is taken): nothing to print.
            if case .uniqueViolation = error.kind { return .alreadyBootstrapped }
            throw error
        }
        logger.notice("created the bootstrap platform-admin API key", metadata: ["key_prefix": .string(token.prefix)])
        return supplied == nil ? .generated(token) : .supplied(prefix: token.prefix)
    }
}
