import AgentplaneAPI
import AgentplaneCore
import OpenAPIRuntime

/// Response bodies of the hottest operations written straight from the Core values (`JSONWriter`),
/// byte for byte what the generated encoder writes for the same schema (keys sorted, absent optionals
/// left out, times with microseconds): `ResourceJSONTests` checks each against it.
///
/// A handler answers through `APIHandler.body(_:)`: when its operation is listed in
/// `ResourceJSON.operations`, the bytes go to `RawBodySlot` and the typed body is a cheap placeholder.
enum ResourceJSON {
    /// The operations whose handlers may answer with bytes rendered here (and `EventPageBody`).
    static let operations: Set<String> = [
        "listEvents", "getInstance", "listInstances", "createInstance", "updateInstance", "stopInstance",
        "startInstance", "listKnowledgeBaseEntries", "createKnowledgeBaseEntry", "getKnowledgeBaseEntry",
        "updateKnowledgeBaseEntry", "retryKnowledgeBaseEntry",
    ]

    /// The `Instance` schema.
    static func write(_ instance: Instance, into out: inout JSONWriter) {
        out.beginObject()
        out.field("agent_id", instance.agentID.lowercasedString)
        out.key("config")
        out.object(instance.config)
        out.field("created_at", instance.createdAt.rfc3339)
        out.field("id", instance.id.lowercasedString)
        out.field("is_active", instance.isActive)
        out.field("name", instance.name)
        out.field("owner_user_id", instance.ownerUserID)
        out.field("pipeline_config", instance.pipelineConfig)
        out.field("project_id", instance.projectID)
        out.field("status", instance.status.rawValue)
        out.field("status_reason", instance.statusReason)
        out.field("template_id", instance.agentID.lowercasedString)
        out.field("tenant_id", instance.tenantID.description)
        out.field("updated_at", instance.updatedAt.rfc3339)
        out.key("user_config")
        out.object(instance.userConfig)
        out.field("version", instance.version)
        out.endObject()
    }

    /// One instance.
    static func render(_ instance: Instance) -> [UInt8] {
        var out = JSONWriter(capacity: 768)
        write(instance, into: &out)
        return out.bytes
    }

    /// The `InstancePage` schema.
    static func render(_ instances: [Instance], nextCursor: String?) -> [UInt8] {
        page("instances", instances, nextCursor: nextCursor, capacity: 64 + instances.count * 768) {
            write($0, into: &$1)
        }
    }

    /// A page schema: `{"<key>": [items…], "next_cursor": …}`.
    static func page<Item>(
        _ key: StaticString, _ items: [Item], nextCursor: String?, capacity: Int,
        _ write: (Item, inout JSONWriter) -> Void
    ) -> [UInt8] {
        var out = JSONWriter(capacity: capacity)
        out.beginObject()
        out.key(key)
        out.array(items, write)
        out.field("next_cursor", nextCursor)
        out.endObject()
        return out.bytes
    }

    /// The `KBEntry` schema.
    static func write(_ entry: KnowledgeBaseEntry, into out: inout JSONWriter) {
        out.beginObject()
        out.field("content", entry.content)
        out.field("created_at", entry.createdAt.rfc3339)
        out.field("data_type", entry.dataType.rawValue)
        out.field("failure_reason", entry.failureReason)
        out.field("id", entry.id.lowercasedString)
        out.field("instance_id", entry.instanceID.lowercasedString)
        out.field("lang_hint", entry.langHint.rawValue)
        out.key("metadata")
        out.object(entry.metadata)
        out.field("status", entry.status.rawValue)
        out.field("updated_at", entry.updatedAt.rfc3339)
        out.field("version", entry.version)
        out.endObject()
    }

    /// One entry.
    static func render(_ entry: KnowledgeBaseEntry) -> [UInt8] {
        var out = JSONWriter(capacity: 512 + entry.content.utf8.count)
        write(entry, into: &out)
        return out.bytes
    }

    /// The `KBEntryPage` schema.
    static func render(_ entries: [KnowledgeBaseEntry], nextCursor: String?) -> [UInt8] {
        let capacity = 64 + entries.reduce(0) { $0 + 512 + $1.content.utf8.count }
        return page("entries", entries, nextCursor: nextCursor, capacity: capacity) { write($0, into: &$1) }
    }
}

extension APIHandler {
    /// A body rendered into the request's raw-body slot when its operation has one (the typed value is
    /// then `placeholder`, which `RawBodyMiddleware` replaces), else the typed value.
    static func rendering<Body>(_ bytes: () -> [UInt8], placeholder: Body, typed: () -> Body) -> Body {
        guard let slot = RawBodySlot.current else { return typed() }
        slot.fill(bytes())
        return placeholder
    }

    /// The body of an answer holding `instance`.
    static func body(_ instance: Instance) -> Components.Schemas.Instance {
        rendering({ ResourceJSON.render(instance) }, placeholder: .placeholder, typed: { .init(instance) })
    }

    /// The body of a page of instances.
    static func body(_ instances: [Instance], nextCursor: String?) -> Components.Schemas.InstancePage {
        rendering(
            { ResourceJSON.render(instances, nextCursor: nextCursor) },
            placeholder: .init(instances: [], nextCursor: nextCursor),
            typed: { .init(instances: instances.map(Components.Schemas.Instance.init), nextCursor: nextCursor) })
    }

    /// The body of an answer holding `entry`.
    static func body(_ entry: KnowledgeBaseEntry) -> Components.Schemas.KBEntry {
        rendering({ ResourceJSON.render(entry) }, placeholder: .placeholder, typed: { .init(entry) })
    }

    /// The body of a page of entries.
    static func body(_ entries: [KnowledgeBaseEntry], nextCursor: String?) -> Components.Schemas.KBEntryPage {
        rendering(
            { ResourceJSON.render(entries, nextCursor: nextCursor) },
            placeholder: .init(entries: [], nextCursor: nextCursor),
            typed: { .init(entries: entries.map(Components.Schemas.KBEntry.init), nextCursor: nextCursor) })
    }
}

extension Components.Schemas.Instance {
    /// A value that only stands in for bytes already rendered (`APIHandler.body(_:)`).
    static let placeholder = Components.Schemas.Instance(
        id: "", tenantId: "", agentId: "", templateId: "", ownerUserId: "", name: "", config: .init(),
        userConfig: .init(), pipelineConfig: nil, status: .pending, isActive: false, version: 0,
        createdAt: .init(timeIntervalSince1970: 0), updatedAt: .init(timeIntervalSince1970: 0))
}

extension Components.Schemas.KBEntry {
    /// A value that only stands in for bytes already rendered (`APIHandler.body(_:)`).
    static let placeholder = Components.Schemas.KBEntry(
        id: "", instanceId: "", content: "", dataType: .document, langHint: .other, status: .queued,
        metadata: .init(), version: 0, createdAt: .init(timeIntervalSince1970: 0),
        updatedAt: .init(timeIntervalSince1970: 0))
}
