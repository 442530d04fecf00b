import AgentplaneCore
import Foundation

/// Which deliveries of a webhook a list shows, newest first.
public struct WebhookDeliveryQuery: Sendable, Hashable {
    /// Only in this state.
    public var status: WebhookDeliveryStatus?
    /// Ids below this one (the cursor: the last id of the previous page).
    public var before: UUID?
    /// Page size.
    public var limit: Int

    /// Creates a query.
    public init(status: WebhookDeliveryStatus? = nil, before: UUID? = nil, limit: Int = 100) {
        self.status = status
        self.before = before
        self.limit = limit
    }
}

/// How an attempt ended, as the store records it with the attempt.
public enum WebhookAttemptOutcome: Sendable, Hashable {
    /// The receiver took it: the delivery `succeeded`, the webhook's failures reset (unless a test).
    case delivered
    /// It failed; the delivery stays `pending` for the next attempt.
    case retrying
    /// It failed for good (a test, or a refusal no retry fixes): the delivery is `dead`.
    case dead
}

/// Persistence of webhook subscriptions, their deliveries and the deliveries' attempts.
public protocol WebhookStore: Sendable {
    /// Inserts a webhook.
    func create(_ webhook: Webhook, record: ChangeRecord) async throws
    /// One webhook of the tenant.
    func find(tenant: TenantID, id: UUID) async throws -> Webhook?
    /// The tenant's webhooks by id, after `after`.
    func list(tenant: TenantID, after: UUID?, limit: Int) async throws -> [Webhook]
    /// Replaces the webhook (settings, secrets, enabled, failures) when the stored version is
    /// `expectedVersion`; throws `notFound` or `staleVersion`.
    func update(_ webhook: Webhook, expectedVersion: Int64, record: ChangeRecord) async throws
    /// Deletes a webhook with its deliveries and their attempts; throws `notFound`.
    func delete(tenant: TenantID, id: UUID, record: ChangeRecord) async throws

    /// The tenants that have an enabled webhook (every tenant).
    func tenantsWithEnabledWebhooks() async throws -> [TenantID]
    /// The tenant's enabled webhooks.
    func enabled(tenant: TenantID) async throws -> [Webhook]
    /// In ONE transaction: inserts each delivery not made before (one per webhook and event) with its run,
    /// and stores the cursor `cursor` at `position`. Answers how many deliveries were new.
    func dispatch(_ deliveries: [(WebhookDelivery, NewRun)], cursor: String, position: String) async throws -> Int
    /// Inserts a delivery without a run (a test, sent by the request itself).
    func insertTestDelivery(_ delivery: WebhookDelivery) async throws

    /// One delivery of the tenant.
    func delivery(tenant: TenantID, id: UUID) async throws -> WebhookDelivery?
    /// A webhook's deliveries matching `query`, newest first.
    func deliveries(tenant: TenantID, webhook: UUID, query: WebhookDeliveryQuery) async throws -> [WebhookDelivery]
    /// A delivery's attempts, first to last (the most recent `WebhookAttempt.keptPerDelivery` of them).
    func attempts(tenant: TenantID, delivery: UUID) async throws -> [WebhookAttempt]
    /// Records an attempt of a `pending` delivery and what it leads to, in one transaction: the attempt row
    /// (older ones beyond the bound dropped), the delivery's count, last status and error, and its state; a
    /// delivered non-test delivery resets its webhook's failures. Answers false (writing nothing) when the
    /// delivery is no longer `pending`.
    func recordAttempt(_ attempt: WebhookAttempt, outcome: WebhookAttemptOutcome, now: Timestamp) async throws -> Bool
    /// Ends a `pending` delivery: `dead` (its run gave up: a non-test one raises its webhook's failures by
    /// one) or `skipped` (its webhook is disabled). Answers the webhook after the change, nil when the
    /// delivery was not pending or the webhook is gone.
    func endDelivery(
        tenant: TenantID, id: UUID, status: WebhookDeliveryStatus, error: String?, now: Timestamp
    ) async throws -> Webhook?
    /// Sends a replayable (`dead` or `skipped`) delivery back to `pending` with `run` (enqueued in the same
    /// transaction, with `record`). Throws `notFound`, or the 409 when it is not replayable.
    func replay(tenant: TenantID, id: UUID, run: NewRun, record: ChangeRecord) async throws -> WebhookDelivery
}
