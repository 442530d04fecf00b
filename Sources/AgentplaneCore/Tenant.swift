import Foundation

/// The isolation boundary: an organisation using the platform (seed names: client, org).
public struct Tenant: Sendable, Hashable {
    /// Row id; also the `tenant_id` of everything the tenant owns.
    public var id: TenantID
    /// URL-safe unique handle, e.g. `acme`.
    public var slug: String
    /// Display name.
    public var name: String
    /// Whether its credentials work.
    public var status: TenantStatus
    /// Limits on what it may create and how fast it may call.
    public var quotas: TenantQuotas
    /// Optimistic-concurrency version, bumped by every change.
    public var version: Int64
    /// When it was created.
    public var createdAt: Timestamp
    /// When it last changed.
    public var updatedAt: Timestamp

    /// Creates a tenant value.
    public init(
        id: TenantID,
        slug: String,
        name: String,
        status: TenantStatus,
        quotas: TenantQuotas,
        version: Int64,
        createdAt: Timestamp,
        updatedAt: Timestamp
    ) {
        self.id = id
        self.slug = slug
        self.name = name
        self.status = status
        self.quotas = quotas
        self.version = version
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Whether a tenant's credentials are accepted.
public enum TenantStatus: String, Sendable, CaseIterable, Codable {
    case active
    case suspended
}

/// Per-tenant limits (seed 000: "validate quota limits before creating instances").
public struct TenantQuotas: Sendable, Hashable, Codable {
    /// Most instances the tenant may have.
    public var maxInstances: Int
    /// Most tasks.
    public var maxTasks: Int
    /// Most knowledge-base entries across all instances.
    public var maxKnowledgeBaseEntries: Int
    /// Requests per minute across the tenant's principals.
    public var requestsPerMinute: Int

    /// The limits a new tenant gets unless told otherwise.
    public static let defaults = TenantQuotas(
        maxInstances: 100,
        maxTasks: 1000,
        maxKnowledgeBaseEntries: 10_000,
        requestsPerMinute: 6000
    )

    /// Creates quotas.
    public init(maxInstances: Int, maxTasks: Int, maxKnowledgeBaseEntries: Int, requestsPerMinute: Int) {
        self.maxInstances = maxInstances
        self.maxTasks = maxTasks
        self.maxKnowledgeBaseEntries = maxKnowledgeBaseEntries
        self.requestsPerMinute = requestsPerMinute
    }

    /// Field errors for out-of-range limits.
    public func errors(pointer: String = "/quotas") -> [FieldError] {
        let limits: [(String, Int, ClosedRange<Int>)] = [
            ("max_instances", maxInstances, 0...1_000_000),
            ("max_tasks", maxTasks, 0...10_000_000),
            ("max_kb_entries", maxKnowledgeBaseEntries, 0...100_000_000),
            ("requests_per_minute", requestsPerMinute, 1...10_000_000),
        ]
        return limits.compactMap { name, value, range in
            range.contains(value)
                ? nil
                : FieldError(
                    pointer: "\(pointer)/\(name)",
                    message: "must be between \(range.lowerBound) and \(range.upperBound)")
        }
    }
}

/// Rules for tenant fields.
public enum TenantValidation {
    /// Field errors for a slug: 2–63 lowercase letters, digits and single hyphens, starting with a letter.
    public static func slugErrors(_ slug: String, pointer: String = "/slug") -> [FieldError] {
        let bytes = Array(slug.utf8)
        let valid =
            (2...63).contains(bytes.count)
            && bytes.first.map { $0 >= 0x61 && $0 <= 0x7A } == true
            && bytes.last != 0x2D
            && bytes.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
            && !slug.contains("--")
        return valid
            ? []
            : [
                FieldError(
                    pointer: pointer,
                    message: "must be 2 to 63 lowercase letters, digits and single hyphens, starting with a letter"
                )
            ]
    }

    /// Field errors for a display name: 1–200 characters, no control characters.
    public static func nameErrors(_ name: String, pointer: String = "/name") -> [FieldError] {
        if name.trimmingCharacters(in: .whitespaces).isEmpty || name.unicodeScalars.count > 200 {
            return [FieldError(pointer: pointer, message: "must be 1 to 200 characters")]
        }
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return [FieldError(pointer: pointer, message: "must not contain control characters")]
        }
        return []
    }
}
