import AgentplaneAPI
import AgentplaneApp
import AgentplaneCore
import Foundation
import OpenAPIRuntime

extension APIHandler {
    func activateInstance(_ input: Operations.ActivateInstance.Input) async throws
        -> Operations.ActivateInstance.Output
    {
        let activation = try await useCases.activateInstance(
            try Self.id(input.path.instanceId, "instance"), tenant: try Self.tenant(input.headers.xTenantID),
            by: try caller("activateInstance"))
        return .ok(.init(body: .json(.init(activation))))
    }

    func deactivateInstance(_ input: Operations.DeactivateInstance.Input) async throws
        -> Operations.DeactivateInstance.Output
    {
        let activation = try await useCases.deactivateInstance(
            try Self.id(input.path.instanceId, "instance"), tenant: try Self.tenant(input.headers.xTenantID),
            by: try caller("deactivateInstance"))
        return .ok(.init(body: .json(.init(activation))))
    }
}

extension Components.Schemas.InstanceActivation {
    init(_ activation: InstanceActivation) {
        self.init(
            instanceId: activation.instanceID.lowercasedString,
            active: activation.active,
            route: activation.route,
            activatedAt: activation.activatedAt?.date,
            activatedBy: activation.activatedBy,
            deactivatedAt: activation.deactivatedAt?.date
        )
    }
}
