import AgentplaneApp
import AgentplaneCore
import Foundation

/// The handler of delivery runs (`webhook.deliver`): one attempt per run attempt, retried by the engine
/// with the webhook policy's backoff; when the run goes `dead`, the delivery is dead and the webhook's
/// failures counted (disabled at the threshold).
public struct WebhookWork: Sendable {
    let useCases: UseCases

    /// Creates the handlers.
    public init(useCases: UseCases) {
        self.useCases = useCases
        WebhookMetrics.prepare()
    }

    /// The handlers by run kind.
    public var handlers: [String: RunHandler] {
        [WebhookDecisions.deliverRun: { try await self.deliver($0.run) }]
    }

    /// What happens when a delivery run ends `dead`.
    public var deadHandlers: [String: DeadRunHandler] {
        [
            WebhookDecisions.deliverRun: { run, error in
                let id = try PlatformRuns.uuid("delivery_id", of: run)
                WebhookMetrics.dead()
                try await useCases.abandonWebhookDelivery(
                    id, tenant: run.request.tenantID,
                    error: "gave up after \(run.roundAttempts) attempts: \(error)",
                    by: .worker("webhook.deliver", run: run.id))
            }
        ]
    }

    func deliver(_ run: Run) async throws -> JSONValue {
        let id: UUID
        do {
            id = try PlatformRuns.uuid("delivery_id", of: run)
        } catch {
            throw PermanentRunFailure("\(error)")
        }
        do {
            switch try await useCases.deliverWebhook(id, tenant: run.request.tenantID) {
            case .delivered(let code):
                return ["delivery_id": .string(id.lowercasedString), "status_code": .int(Int64(code))]
            case .skipped(let reason):
                return ["delivery_id": .string(id.lowercasedString), "skipped": .string(reason)]
            }
        } catch let failure as WebhookAttemptFailure where failure.permanent {
            throw PermanentRunFailure(failure.description)
        }
    }
}
