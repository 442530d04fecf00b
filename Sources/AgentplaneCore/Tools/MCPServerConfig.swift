import Foundation

/// A tenant's MCP server as registered: steps call its tools as `<name>.<tool>`.
public struct MCPServerConfig: Sendable, Hashable {
    /// How it is reached.
    public enum Transport: String, Sendable, CaseIterable {
        /// A child process the platform starts (an operator-allow-listed command).
        case stdio
        /// A streamable-HTTP endpoint.
        case http
    }

    /// Id (UUIDv7).
    public var id: UUID
    /// Owner.
    public var tenantID: TenantID
    /// Unique in the tenant; `[A-Za-z0-9_-]`, 1–64.
    public var name: String
    /// How it is reached.
    public var transport: Transport
    /// `stdio`: the absolute path of the program.
    public var command: String?
    /// `stdio`: its arguments.
    public var arguments: [String]
    /// `stdio`: its environment (values may be `${secrets.NAME}`).
    public var environment: [String: String]
    /// `http`: the endpoint.
    public var url: String?
    /// `http`: headers sent with every request (values may be `${secrets.NAME}`).
    public var headers: [String: String]
    /// Optimistic concurrency; a new version replaces the live connection.
    public var version: Int64
    /// Created.
    public var createdAt: Timestamp
    /// Last changed.
    public var updatedAt: Timestamp

    /// Creates a server value.
    public init(
        id: UUID, tenantID: TenantID, name: String, transport: Transport, command: String?, arguments: [String],
        environment: [String: String], url: String?, headers: [String: String], version: Int64,
        createdAt: Timestamp, updatedAt: Timestamp
    ) {
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.transport = transport
        self.command = command
        self.arguments = arguments
        self.environment = environment
        self.url = url
        self.headers = headers
        self.version = version
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The names of built-in tool groups, which no server may take (`http.request`, `events.publish`, `kb.search`).
    public static let reservedNames: Set<String> = ["http", "events", "kb", "log", "sleep", "llm"]

    /// Field errors of a registration: the name, the transport's fields, the stdio allow-list (absolute paths;
    /// the command must be one of them exactly), and that `env`/`headers` values hold no reference but to
    /// secrets.
    public static func errors(_ server: MCPServerConfig, stdioAllowList: Set<String>) -> [FieldError] {
        var errors: [FieldError] = []
        let nameBytes = Array(server.name.utf8)
        if !PipelineStep.isValidName(server.name) || nameBytes.isEmpty {
            errors.append(FieldError(pointer: "/name", message: "must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -"))
        } else if reservedNames.contains(server.name) {
            errors.append(FieldError(pointer: "/name", message: "'\(server.name)' is the name of built-in tools"))
        }
        switch server.transport {
        case .stdio:
            if let command = server.command {
                if !command.hasPrefix("/") {
                    errors.append(FieldError(pointer: "/command", message: "must be an absolute path"))
                } else if !stdioAllowList.contains(command) {
                    errors.append(
                        FieldError(
                            pointer: "/command",
                            message: "'\(command)' is not allowed: the operator allow-lists stdio commands "
                                + "(AGENTPLANE_MCP_STDIO_ALLOW)"))
                }
            } else {
                errors.append(FieldError(pointer: "/command", message: "is required for stdio servers"))
            }
            if server.url != nil { errors.append(FieldError(pointer: "/url", message: "is for http servers only")) }
            if !server.headers.isEmpty {
                errors.append(FieldError(pointer: "/headers", message: "are for http servers only"))
            }
        case .http:
            if let text = server.url {
                let url = URL(string: text)
                let scheme = url?.scheme?.lowercased()
                if url?.host == nil || (scheme != "http" && scheme != "https") {
                    errors.append(FieldError(pointer: "/url", message: "must be an http(s) URL"))
                }
            } else {
                errors.append(FieldError(pointer: "/url", message: "is required for http servers"))
            }
            if server.command != nil {
                errors.append(FieldError(pointer: "/command", message: "is for stdio servers only"))
            }
            if !server.arguments.isEmpty {
                errors.append(FieldError(pointer: "/args", message: "are for stdio servers only"))
            }
            if !server.environment.isEmpty {
                errors.append(FieldError(pointer: "/env", message: "is for stdio servers only"))
            }
        }
        for (field, values) in [("env", server.environment), ("headers", server.headers)] {
            for (key, value) in values {
                errors += referenceErrors(value, pointer: "/\(field)/\(key)")
            }
        }
        for (index, argument) in server.arguments.enumerated() where argument.contains("\u{0}") {
            errors.append(FieldError(pointer: "/args/\(index)", message: "must not contain NUL"))
        }
        return errors
    }

    /// A value may reference secrets only (`${secrets.NAME}`), nothing else a pipeline could render.
    static func referenceErrors(_ value: String, pointer: String) -> [FieldError] {
        if value.contains("\u{0}") { return [FieldError(pointer: pointer, message: "must not contain NUL")] }
        do {
            let template = try Template.parse(value)
            for reference in template.references where reference.root != .secrets {
                return [FieldError(pointer: pointer, message: "may only reference ${secrets.NAME}")]
            }
            return []
        } catch {
            return [FieldError(pointer: pointer, message: "at offset \(error.offset): \(error.message)")]
        }
    }

    /// The secret names the server's settings reference.
    public var referencedSecrets: Set<String> {
        var names = Set<String>()
        for value in Array(environment.values) + Array(headers.values) {
            guard let template = try? Template.parse(value) else { continue }
            for reference in template.references where reference.root == .secrets {
                if let name = reference.path.first { names.insert(name) }
            }
        }
        return names
    }
}
