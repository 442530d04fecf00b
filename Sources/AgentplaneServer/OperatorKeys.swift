import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import Foundation

/// Keys an operator creates from the command line (`agentplane keys create`), for a tenant by slug,
/// through the same use case and rules as the API.
public enum OperatorKeys {
    /// What went wrong, in one line for the terminal.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String

        /// The one line for a use-case error: its first invalid field, or its detail.
        init(_ error: AgentplaneError) {
            var line = error.detail
            if error.code == .validationFailed, let field = error.fieldErrors.first {
                line = "\(field.pointer.split(separator: "/").first.map(String.init) ?? field.pointer) \(field.message)"
            }
            if line.hasSuffix(".") { line.removeLast() }
            description = (line.prefix(1).lowercased() + line.dropFirst()).replacingOccurrences(of: "`", with: "'")
        }

        init(description: String) { self.description = description }
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
        if let expiresInDays, !(1...3650).contains(expiresInDays) {
            throw Failure(description: "--expires-in-days must be between 1 and 3650")
        }
        let command = CreateAPIKey(
            name: name, role: role, scopes: requested, expiresInSeconds: expiresInDays.map { $0 * 86_400 })
        do {
            return try await UseCases(store: store, passwords: PasswordHasher()).createOperatorKey(
                command, tenantSlug: tenantSlug, by: .operatorCLI("cli.keys.create")
            ).token
        } catch let error as AgentplaneError {
            throw Failure(error)
        }
    }
}

/// Local users an operator creates from the command line (`agentplane users create`).
public enum OperatorUsers {
    /// Creates a user, member of tenant `tenantSlug` with `role` (or a platform admin).
    public static func create(
        store: any Store,
        email: String,
        name: String,
        password: String,
        tenantSlug: String?,
        role: Role,
        platformAdmin: Bool,
        bcryptCost: Int
    ) async throws -> User {
        let command = CreateUser(
            email: email, name: name, password: password, tenantSlug: tenantSlug, role: role,
            platformAdmin: platformAdmin)
        do {
            return try await UseCases(store: store, passwords: PasswordHasher(cost: UInt8(bcryptCost))).createUser(
                command, by: .operatorCLI("cli.users.create"))
        } catch let error as AgentplaneError {
            throw OperatorKeys.Failure(error)
        }
    }
}
