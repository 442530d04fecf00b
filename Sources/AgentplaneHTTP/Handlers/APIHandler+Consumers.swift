import AgentplaneAPI
import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import Foundation
import OpenAPIRuntime

extension APIHandler {
    func listConsumers(_ input: Operations.ListConsumers.Input) async throws -> Operations.ListConsumers.Output {
        let page = try await useCases.listConsumers(
            after: input.query.cursor, limit: try Paging.limit(input.query.limit),
            tenant: try Self.tenant(input.headers.xTenantID), for: try caller("listConsumers"))
        return .ok(
            .init(
                body: .json(
                    .init(
                        consumers: page.items.map(Components.Schemas.Consumer.init),
                        nextCursor: page.hasMore ? page.items.last?.consumer.name : nil))))
    }

    func createConsumer(_ input: Operations.CreateConsumer.Input) async throws -> Operations.CreateConsumer.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let status = try await useCases.createConsumer(
            ConsumerFields(
                name: body.name, eventTypes: body.eventTypes ?? [], subject: body.subject,
                format: body.format?.rawValue, startAt: body.startAt),
            tenant: try Self.tenant(input.headers.xTenantID), by: try caller("createConsumer"))
        return .created(.init(body: .json(.init(status))))
    }

    func getConsumer(_ input: Operations.GetConsumer.Input) async throws -> Operations.GetConsumer.Output {
        let status = try await useCases.consumer(
            input.path.consumerName, tenant: try Self.tenant(input.headers.xTenantID), for: try caller("getConsumer"))
        return .ok(.init(body: .json(.init(status))))
    }

    func deleteConsumer(_ input: Operations.DeleteConsumer.Input) async throws -> Operations.DeleteConsumer.Output {
        try await useCases.deleteConsumer(
            input.path.consumerName, tenant: try Self.tenant(input.headers.xTenantID),
            by: try caller("deleteConsumer"))
        return .noContent(.init())
    }

    func getConsumerEvents(_ input: Operations.GetConsumerEvents.Input) async throws
        -> Operations.GetConsumerEvents.Output
    {
        let batch = try await useCases.consumerBatch(
            input.path.consumerName, limit: try Paging.limit(input.query.limit),
            tenant: try Self.tenant(input.headers.xTenantID), for: try caller("getConsumerEvents"))
        let format = batch.consumer.format
        let events = batch.events.map { event in
            Self.object(JSONValue(parsing: format.render(event))?.objectValue ?? [:])
        }
        return .ok(
            .init(
                body: .json(
                    .init(
                        consumer: batch.consumer.name, format: .init(rawValue: format.rawValue)!, events: events,
                        committedOffset: batch.consumer.offset.description,
                        nextOffset: batch.nextOffset.description))))
    }

    func ackConsumer(_ input: Operations.AckConsumer.Input) async throws -> Operations.AckConsumer.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let status = try await useCases.ackConsumer(
            input.path.consumerName, offset: body.offset, rewind: body.rewind ?? false,
            tenant: try Self.tenant(input.headers.xTenantID), by: try caller("ackConsumer"))
        return .ok(.init(body: .json(.init(status))))
    }
}

extension Components.Schemas.Consumer {
    init(_ status: ConsumerStatus) {
        let consumer = status.consumer
        self.init(
            name: consumer.name, tenantId: consumer.tenantID.description, eventTypes: consumer.filter.types,
            subject: consumer.filter.subject, format: .init(rawValue: consumer.format.rawValue)!,
            committedOffset: consumer.offset.description, lag: status.lag, lagCapped: status.lagCapped,
            version: Int(consumer.version), createdAt: consumer.createdAt.date, updatedAt: consumer.updatedAt.date,
            ackedAt: consumer.ackedAt?.date)
    }
}
