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
        "startInstance",
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
        var out = JSONWriter(capacity: 64 + instances.count * 768)
        out.beginObject()
        out.key("instances")
        out.beginArray()
        for instance in instances {
            out.element()
            write(instance, into: &out)
        }
        out.endArray()
        out.field("next_cursor", nextCursor)
        out.endObject()
        return out.bytes
    }
}

extension APIHandler {
    /// The body of an answer holding `instance`: rendered into the request's raw-body slot when its
    /// operation has one (the typed value is then a placeholder the middleware replaces), typed otherwise.
    static func body(_ instance: Instance) -> Components.Schemas.Instance {
        guard let slot = RawBodySlot.current else { return .init(instance) }
        slot.fill(ResourceJSON.render(instance))
        return .placeholder
    }

    /// The body of a page of instances, as `body(_:)` for one.
    static func body(_ instances: [Instance], nextCursor: String?) -> Components.Schemas.InstancePage {
        guard let slot = RawBodySlot.current else {
            return .init(instances: instances.map(Components.Schemas.Instance.init), nextCursor: nextCursor)
        }
        slot.fill(ResourceJSON.render(instances, nextCursor: nextCursor))
        return .init(instances: [], nextCursor: nextCursor)
    }
}

extension Components.Schemas.Instance {
    /// A value that only stands in for bytes already rendered (`APIHandler.body(_:)`).
    static let placeholder = Components.Schemas.Instance(
        id: "", tenantId: "", agentId: "", templateId: "", ownerUserId: "", name: "", config: .init(),
        userConfig: .init(), pipelineConfig: nil, status: .pending, isActive: false, version: 0,
        createdAt: .init(timeIntervalSince1970: 0), updatedAt: .init(timeIntervalSince1970: 0))
}
