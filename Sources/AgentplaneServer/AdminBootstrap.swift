import AgentplaneApp
import AgentplaneCore
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
        let useCases = UseCases(store: store, passwords: PasswordHasher())
        switch try await useCases.bootstrapAdminKey(supplied ?? APIKeyToken.generate()) {
        case .alreadyBootstrapped:
            return .alreadyBootstrapped
        case .created(let token):
            logger.notice(
                "created the bootstrap platform-admin API key", metadata: ["key_prefix": .string(token.prefix)])
            return supplied == nil ? .generated(token) : .supplied(prefix: token.prefix)
        }
    }
}
