import AgentplaneServer
import ArgumentParser
import Foundation

/// Entry point: parses the command line and turns every failure into one line on stderr.
/// Configuration mistakes exit with 2, runtime failures with 1; `--help` and `--version` with 0.
@main
enum Main {
    static func main() async {
        do {
            var command = try AgentplaneCommand.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ConfigurationError {
            fail("\(error)", code: 2)
        } catch {
            let exitCode = AgentplaneCommand.exitCode(for: error)
            if exitCode == .success { AgentplaneCommand.exit(withError: error) }
            if exitCode == .validationFailure {
                let message = AgentplaneCommand.message(for: error).split(separator: "\n").first.map(String.init)
                fail("\(message ?? "invalid arguments") (see agentplane --help)", code: 2)
            }
            fail(String(describing: error).split(separator: "\n").first.map(String.init) ?? "failed", code: 1)
        }
    }

    static func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("agentplane: error: \(message)\n".utf8))
        exit(code)
    }
}
