import AgentplaneApp
import AgentplaneCore
import AgentplaneEngine
import AgentplaneMCP
import Foundation
import Logging

/// The tools side of the composition root: the secrets key, the MCP bridge, and the settings the use cases
/// get from them.
enum ToolWiring {
    /// The secrets key: `AGENTPLANE_SECRETS_KEY` (base64 of 32 bytes), else the key file (`--secrets-key-file`,
    /// default `<data dir>/secrets.key`), generated with mode 0600 when missing.
    static func secretBox(_ configuration: ServerConfiguration) throws -> SecretBox {
        if let text = configuration.engine.secretsKey {
            guard let bytes = Data(base64Encoded: text), bytes.count == 32 else {
                throw ConfigurationError("AGENTPLANE_SECRETS_KEY must be the base64 of 32 bytes")
            }
            return try box(Array(bytes))
        }
        let path =
            configuration.engine.secretsKeyFile
            ?? (configuration.dataDirectory as NSString).appendingPathComponent("secrets.key")
        if let data = FileManager.default.contents(atPath: path) {
            guard let text = String(data: data, encoding: .utf8),
                let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32
            else { throw ConfigurationError("the secrets key file \(path) must hold the base64 of 32 bytes") }
            return try box(Array(bytes))
        }
        // Nodes sharing a data directory may start together: the first link wins, the others read its key.
        let bytes = SecretBox.generateKeyBytes()
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let temporary = path + ".\(UUID().uuidString).tmp"
        guard
            FileManager.default.createFile(
                atPath: temporary, contents: Data((Data(bytes).base64EncodedString() + "\n").utf8),
                attributes: [.posixPermissions: 0o600])
        else { throw ConfigurationError("the secrets key file \(path) could not be written") }
        defer { unlink(temporary) }
        if link(temporary, path) != 0 {
            guard errno == EEXIST else { throw ConfigurationError("the secrets key file \(path) could not be written") }
            return try secretBox(configuration)
        }
        return try box(bytes)
    }

    private static func box(_ bytes: [UInt8]) throws -> SecretBox {
        do {
            return try SecretBox(keyBytes: bytes)
        } catch {
            throw ConfigurationError(error.description)
        }
    }

    /// Fails when the database was used with another secrets key (nodes of one database must share it).
    static func checkKey(_ box: SecretBox, useCases: UseCases) async throws {
        let stored = try await useCases.store.identity.secret(named: "secrets_key_fingerprint") { box.fingerprint }
        guard stored == box.fingerprint else {
            throw ConfigurationError(
                "the secrets key differs from the one this database's secrets were sealed with "
                    + "(every node must use the same AGENTPLANE_SECRETS_KEY or key file)")
        }
    }

    /// Wires secrets, the stdio allow-list, the SSRF guard and the MCP bridge into the use cases; answers the
    /// bridge (a service: it ends the MCP connections at shutdown).
    static func wire(_ useCases: inout UseCases, configuration: ServerConfiguration, logger: Logger) throws -> MCPBridge
    {
        let settings = configuration.engine
        let outbound = OutboundPolicy(allowedHosts: settings.allowedOutboundHosts)
        useCases.toolSettings.secretBox = try secretBox(configuration)
        useCases.toolSettings.stdioAllowList = Set(settings.mcpStdioAllowList)
        useCases.toolSettings.urlCheck = { url in
            do throws(OutboundRefusal) {
                try await outbound.check(url)
                return nil
            } catch {
                return error.description
            }
        }
        let pool = MCPConnectionPool(
            stdioAllowList: Set(settings.mcpStdioAllowList), httpClient: BuiltInToolbox.outboundClient,
            outboundCheck: { url in try await outbound.check(url) }, logger: logger)
        let bridge = MCPBridge(useCases: useCases, pool: pool)
        useCases.toolSettings.listTools = { try await bridge.tools($0) }
        useCases.taskSettings.toolCheck = { await bridge.stepCheck($0, $1, $2) }
        return bridge
    }
}
