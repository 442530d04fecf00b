import AgentplaneCore
import AgentplaneServer
import ArgumentParser
import Foundation

/// `agentplane keys`: credentials management for operators, straight against the database.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage API keys from the command line.",
        subcommands: [Create.self]
    )

    /// `agentplane keys create --tenant SLUG --role ROLE [--scopes a,b]`.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an API key for a tenant and print it once.",
            discussion: "Scopes: \(Scope.catalogue.map(\.scope).joined(separator: ", ")). Default: all the role allows."
        )

        @Option(help: "The tenant's slug (`platform` for platform credentials).")
        var tenant: String

        @Option(help: "admin, member or viewer (platform_admin in the platform tenant).")
        var role: String

        @Option(help: "Comma-separated scopes (default: everything the role allows).")
        var scopes: String?

        @Option(help: "A label shown in key listings.")
        var name: String = "operator key"

        @Option(help: "Days until the key expires (default: never).")
        var expiresInDays: Int?

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            guard let role = Role(rawValue: role) else {
                throw ConfigurationError("--role must be admin, member, viewer or platform_admin; got '\(role)'")
            }
            let configuration = try database.makeConfiguration(serving: false)
            let logger = bootstrapLogging(level: configuration.logLevel)
            let store = try Backend.open(configuration, logger: logger)
            let requested = scopes.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await store.run() }
                defer { group.cancelAll() }
                _ = try await store.migrate()
                do {
                    let token = try await OperatorKeys.create(
                        store: store,
                        tenantSlug: tenant,
                        role: role,
                        scopes: requested,
                        name: name,
                        expiresInDays: expiresInDays
                    )
                    print(token.text)
                    FileHandle.standardError.write(Data("(shown once; only its hash is stored)\n".utf8))
                } catch let failure as OperatorKeys.Failure {
                    throw ConfigurationError(failure.description)
                }
            }
        }
    }
}
