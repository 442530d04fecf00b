import Foundation

/// One entry of an instance's knowledge base (seed 001).
public struct KnowledgeBaseEntry: Sendable, Hashable, Identifiable {
    /// Row id.
    public var id: UUID
    /// Owning tenant.
    public var tenantID: TenantID
    /// The instance whose knowledge base holds it.
    public var instanceID: UUID
    /// The text.
    public var content: String
    /// What kind of source it came from.
    public var dataType: KBDataType
    /// Its language.
    public var langHint: KBLangHint
    /// Processing state.
    public var status: KBEntryStatus
    /// Why processing failed, when it did.
    public var failureReason: String?
    /// Free-form metadata.
    public var metadata: [String: JSONValue]
    /// Optimistic-concurrency version.
    public var version: Int64
    /// Created.
    public var createdAt: Timestamp
    /// Last changed.
    public var updatedAt: Timestamp

    /// Creates an entry value.
    public init(
        id: UUID,
        tenantID: TenantID,
        instanceID: UUID,
        content: String,
        dataType: KBDataType,
        langHint: KBLangHint,
        status: KBEntryStatus,
        failureReason: String?,
        metadata: [String: JSONValue],
        version: Int64,
        createdAt: Timestamp,
        updatedAt: Timestamp
    ) {
        self.id = id
        self.tenantID = tenantID
        self.instanceID = instanceID
        self.content = content
        self.dataType = dataType
        self.langHint = langHint
        self.status = status
        self.failureReason = failureReason
        self.metadata = metadata
        self.version = version
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Most characters an entry may hold.
    public static let maximumContentLength = 100_000

    /// Field errors for content and metadata.
    public static func errors(content: String, metadata: [String: JSONValue]) -> [FieldError] {
        var errors: [FieldError] = []
        let length = content.unicodeScalars.count
        if content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty || length > maximumContentLength {
            errors.append(
                FieldError(
                    pointer: "/content",
                    message: "must be 1 to \(maximumContentLength) characters of text, got \(length)")
            )
        }
        if content.unicodeScalars.contains("\u{0}") {
            errors.append(FieldError(pointer: "/content", message: "must not contain the NUL character"))
        }
        errors += EventValidation.dataErrors(.object(metadata), pointer: "/metadata")
        return errors
    }

    /// The processing step: an entry is indexable when it has at least one word; the reason otherwise.
    public static func indexingFailure(_ content: String) -> String? {
        content.unicodeScalars.contains(where: { CharacterSet.alphanumerics.contains($0) })
            ? nil : "the content has no words to index"
    }
}

/// One hit of a knowledge-base search.
public struct KnowledgeBaseHit: Sendable, Hashable {
    /// The entry.
    public var entryID: UUID
    /// Higher is more relevant.
    public var rank: Double
    /// The matching passage, with matches in `[` `]`.
    public var snippet: String

    /// Creates a hit.
    public init(entryID: UUID, rank: Double, snippet: String) {
        self.entryID = entryID
        self.rank = rank
        self.snippet = snippet
    }
}
