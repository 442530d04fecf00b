import AgentplaneCore
import AgentplaneServer
import ArgumentParser
import Foundation

/// `agentplane users`: local users for self-hosted sign-in.
struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage local users (email and password sign-in).",
        subcommands: [Create.self]
    )

    /// `agentplane users create --email E --name N --tenant SLUG --role R`; the password is read from stdin.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a user; the password is read from the first line of standard input.",
            discussion:
                "Example: printf '%s\\n' \"$PASSWORD\" | agentplane users create --email a@b.c --name Ada --tenant acme --role admin"
        )

        @Option(help: "Sign-in email (stored lowercased).")
        var email: String

        @Option(help: "Display name.")
        var name: String

        @Option(help: "Slug of the tenant the user belongs to.")
        var tenant: String?

        @Option(help: "admin, member or viewer in that tenant.")
        var role: String = "member"

        @Flag(help: "Make the user a platform admin.")
        var platformAdmin = false

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            guard let role = Role(rawValue: role), role != .platformAdmin else {
                throw ConfigurationError("--role must be admin, member or viewer; got '\(role)'")
            }
            guard let password = readLine(strippingNewline: true), !password.isEmpty else {
                throw ConfigurationError("give the password on standard input (one line)")
            }
            let configuration = try database.makeConfiguration(serving: false)
            let logger = bootstrapLogging(level: configuration.logLevel)
            let store = try Backend.open(configuration, logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await store.run() }
                defer { group.cancelAll() }
                _ = try await store.migrate()
                do {
                    let user = try await OperatorUsers.create(
                        store: store,
                        email: email,
                        name: name,
                        password: password,
                        tenantSlug: tenant,
                        role: role,
                        platformAdmin: platformAdmin,
                        bcryptCost: configuration.bcryptCost
                    )
                    print("Created user \(user.id.lowercasedString) (\(user.email))")
                } catch let failure as OperatorKeys.Failure {
                    throw ConfigurationError(failure.description)
                }
            }
        }
    }
}
