import AgentplaneAPI
import AgentplaneApp
import AgentplaneCore
import Foundation

extension APIHandler {
    func createToken(_ input: Operations.CreateToken.Input) async throws -> Operations.CreateToken.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let grant: SignInGrant
        switch body.grantType {
        case .password:
            let tenant = try body.tenantId.map { text in
                guard let tenant = TenantID(uuidString: text) else {
                    throw AgentplaneError.validation([FieldError(pointer: "/tenant_id", message: "must be a UUID")])
                }
                return tenant
            }
            grant = .password(email: body.email, password: body.password, tenant: tenant)
        case .refreshToken:
            grant = .refreshToken(body.refreshToken)
        }
        let signedIn = try await useCases.signIn(grant)
        let accessToken = try await tokens.issue(user: signedIn.user, tenant: signedIn.tenant, role: signedIn.role)
        return .ok(
            .init(
                body: .json(
                    .init(
                        accessToken: accessToken,
                        tokenType: .bearer,
                        expiresIn: Int(tokens.lifetime.components.seconds),
                        refreshToken: signedIn.refreshToken,
                        tenantId: signedIn.tenant.description,
                        role: signedIn.role.rawValue
                    )
                )
            )
        )
    }
}
