import Foundation

extension Agent {
    /// The agent as one JSON document: how versions are kept, identically on both stores.
    public var snapshot: JSONValue {
        var members: [String: JSONValue] = [
            "id": .string(id.lowercasedString), "type": .string(type), "name": .string(name),
            "description": .string(description), "category": .string(category),
            "default_config": .object(defaultConfig), "content": content, "rate": .int(Int64(rate)),
            "is_active": .bool(isActive), "version": .int(version),
            "created_at": .int(createdAt.microsecondsSinceEpoch), "updated_at": .int(updatedAt.microsecondsSinceEpoch),
        ]
        members["activation_code"] = activationCode.map(JSONValue.string) ?? .null
        members["deleted_at"] = deletedAt.map { .int($0.microsecondsSinceEpoch) } ?? .null
        return .object(members)
    }

    /// Reads a snapshot back; nil when it is not one.
    public init?(snapshot: JSONValue) {
        func integer(_ key: String) -> Int64? {
            if case .int(let value)? = snapshot[key] { return value }
            return nil
        }
        guard let id = snapshot["id"]?.stringValue.flatMap(UUID.init(uuidString:)),
            let type = snapshot["type"]?.stringValue, let name = snapshot["name"]?.stringValue,
            let description = snapshot["description"]?.stringValue, let category = snapshot["category"]?.stringValue,
            let defaultConfig = snapshot["default_config"]?.objectValue, let content = snapshot["content"],
            let rate = integer("rate"), case .bool(let isActive)? = snapshot["is_active"],
            let version = integer("version"), let created = integer("created_at"), let updated = integer("updated_at")
        else { return nil }
        self.init(
            id: id,
            type: type,
            name: name,
            description: description,
            category: category,
            defaultConfig: defaultConfig,
            content: content,
            activationCode: snapshot["activation_code"]?.stringValue,
            rate: Int(rate),
            isActive: isActive,
            version: version,
            createdAt: Timestamp(microsecondsSinceEpoch: created),
            updatedAt: Timestamp(microsecondsSinceEpoch: updated),
            deletedAt: integer("deleted_at").map(Timestamp.init(microsecondsSinceEpoch:))
        )
    }
}
