import AgentplaneCore
import AgentplaneServer
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import AgentplaneHTTP

/// Seed 000's commands through a live server whose worker processes them: exactly once per request id,
/// through the same use cases as the instance routes, answered by events that name the command as cause.
@Suite(.timeLimit(.minutes(3))) struct CommandsAPITests {
    static func agent(_ client: any TestClientProtocol) async throws -> String {
        let agent = try await client.request(
            .post, "/api/v1/agents", json: #"{"type":"persona","name":"Persona","category":"x"}"#)
        #expect(agent.status == .created, "\(agent.text)")
        return try #require(try agent.json()["id"]?.stringValue)
    }

    @Test func commandEnumsMatchTheContract() throws {
        let schemas = try ContractDocument().document["components"]?["schemas"]
        let statuses = schemas?["CommandStatus"]?["enum"]?.arrayValue?.compactMap(\.stringValue)
        #expect(statuses == CommandStatus.allCases.map(\.rawValue))
        let actions = schemas?["CommandAction"]?["enum"]?.arrayValue?.compactMap(\.stringValue)
        #expect(actions == CommandAction.allCases.map(\.rawValue))
    }

    @Test(arguments: TestBackend.allCases)
    func commandsAreProcessedOncePerRequestIDAndCauseTheirEvents(backend: TestBackend) async throws {
        try await withLiveServer(backend, engine: EngineSettings()) { client, _ in
            let tenant = try await TenantFixture.make(client, slug: "commands")
            let agent = try await Self.agent(client)
            let body = #"""
                {"action":"create_instance","data":{"template_id":"\#(agent)","title":"Desk"},
                 "request_id":"req-1","correlation_id":"corr-1","client_id":"\#(tenant.id)","user_id":"user-42"}
                """#
            let accepted = try await client.request(.post, "/api/v1/commands", key: tenant.adminKey, json: body)
            #expect(accepted.status == .accepted, "\(accepted.text)")
            let command = try accepted.json()
            let id = try #require(command["id"]?.stringValue)
            #expect(accepted.headers[.location] == "/api/v1/commands/\(id)")
            #expect(command["status_url"] == .string("/api/v1/commands/\(id)"))
            // The same request id again: the first command, nothing new.
            let duplicate = try await client.request(.post, "/api/v1/commands", key: tenant.adminKey, json: body)
            #expect(duplicate.status == .ok)
            #expect(duplicate.headers[HTTPField.Name("Command-Replayed")!] == "true")
            #expect(try duplicate.json()["id"]?.stringValue == id)
            let done = try await client.awaitJSON("/api/v1/commands/\(id)", key: tenant.adminKey) {
                $0["status"] == "succeeded" || $0["status"] == "dead"
            }
            #expect(done["status"] == "succeeded", "\(done)")
            let instanceID = try #require(done["result"]?["instance_id"]?.stringValue)
            #expect(done["result"]?["http_status"] == .int(201))
            // Its events carry the command as cause, its correlation, request and user.
            let events = try await client.request(
                .get, "/api/v1/events?type=instance.created", key: tenant.adminKey
            ).json()
            let created = try #require(events["events"]?.arrayValue)
            #expect(created.count == 1)
            #expect(created.first?["causationid"] == .string(id))
            #expect(created.first?["correlationid"] == "corr-1")
            #expect(created.first?["requestid"] == "req-1")
            #expect(created.first?["userid"] == "user-42")
            #expect(created.first?["data"]?["instance_id"] == .string(instanceID))
            let succeeded = try await client.request(
                .get, "/api/v1/events?type=command.succeeded", key: tenant.adminKey
            ).json()
            #expect(succeeded["events"]?.arrayValue?.first?["causationid"] == .string(id))
            // Concurrent duplicates: one command, one instance.
            let racing =
                #"{"action":"create_instance","data":{"agent_id":"\#(agent)","name":"Race"},"request_id":"req-2"}"#
            let answers = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        let answer = try await client.request(
                            .post, "/api/v1/commands", key: tenant.adminKey, json: racing)
                        return (Int(answer.status.code), try answer.json()["id"]?.stringValue)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(answers.map(\.1)).count == 1)
            #expect(answers.filter { $0.0 == 202 }.count == 1)
            #expect(answers.allSatisfy { $0.0 == 202 || $0.0 == 200 })
            let raceID = try #require(answers.first?.1)
            _ = try await client.awaitJSON("/api/v1/commands/\(raceID)", key: tenant.adminKey) {
                $0["status"] == "succeeded"
            }
            let instances = try await client.request(.get, "/api/v1/instances", key: tenant.adminKey).json()
            #expect(instances["instances"]?.arrayValue?.count == 2)
            // Seed 000's headers instead of body fields: an update (once provisioning is done: a change racing
            // it would be a stale version), then a delete.
            _ = try await client.awaitJSON("/api/v1/instances/\(instanceID)", key: tenant.adminKey) {
                $0["status"] == "running"
            }
            var headers: HTTPFields = [:]
            headers[HTTPField.Name("request_id")!] = "req-3"
            headers[HTTPField.Name("correlation_id")!] = "corr-3"
            headers[HTTPField.Name("client_id")!] = tenant.id
            headers[HTTPField.Name("user_id")!] = "user-43"
            let update = try await client.request(
                .post, "/api/v1/commands", key: tenant.adminKey,
                json: #"{"action":"update_instance","data":{"instance_id":"\#(instanceID)","name":"Renamed"}}"#,
                headers: headers)
            #expect(update.status == .accepted, "\(update.text)")
            #expect(try update.json()["request_id"] == "req-3" && update.json()["user_id"] == "user-43")
            let updateID = try #require(try update.json()["id"]?.stringValue)
            let updated = try await client.awaitJSON("/api/v1/commands/\(updateID)", key: tenant.adminKey) {
                $0["status"] == "succeeded" || $0["status"] == "dead"
            }
            #expect(updated["status"] == "succeeded", "\(updated)")
            let renamed = try await client.request(.get, "/api/v1/instances/\(instanceID)", key: tenant.adminKey)
            #expect(try renamed.json()["name"] == "Renamed")
            let changes = try await client.request(
                .get, "/api/v1/events?type=instance.updated", key: tenant.adminKey
            ).json()
            #expect(
                changes["events"]?.arrayValue?.contains {
                    $0["causationid"] == .string(updateID) && $0["correlationid"] == "corr-3"
                        && $0["userid"] == "user-43"
                } == true)
            let delete = try await client.request(
                .post, "/api/v1/commands", key: tenant.adminKey,
                json: #"{"action":"delete_instance","data":{"instance_id":"\#(instanceID)"},"request_id":"req-4"}"#)
            let deleteID = try #require(try delete.json()["id"]?.stringValue)
            _ = try await client.awaitJSON("/api/v1/commands/\(deleteID)", key: tenant.adminKey) {
                $0["status"] == "succeeded"
            }
            #expect(
                try await client.request(.get, "/api/v1/instances/\(instanceID)", key: tenant.adminKey).status
                    == .notFound)
            // Listed newest first, filtered.
            let listed = try await client.request(
                .get, "/api/v1/commands?status=succeeded&action=create_instance", key: tenant.adminKey
            ).json()
            #expect(listed["commands"]?.arrayValue?.map { $0["id"] } == [.string(raceID), .string(id)])
            // The audit log names the real principal for the worker's change.
            let audit = try await client.request(
                .get, "/api/v1/audit-log?operation=command.create_instance", key: tenant.adminKey
            ).json()
            #expect(audit["entries"]?.arrayValue?.first?["principal_id"]?.stringValue?.hasPrefix("api_key:") == true)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aFailingCommandEndsDeadWithItsProblemAndCanBeReplayed(backend: TestBackend) async throws {
        try await withLiveServer(backend, engine: EngineSettings()) { client, _ in
            let tenant = try await TenantFixture.make(client, slug: "failing")
            let missing = UUIDv7.make().lowercasedString
            let submitted = try await client.request(
                .post, "/api/v1/commands", key: tenant.adminKey,
                json:
                    #"{"action":"update_instance","data":{"instance_id":"\#(missing)","name":"x"},"request_id":"u-1"}"#)
            #expect(submitted.status == .accepted, "\(submitted.text)")
            let id = try #require(try submitted.json()["id"]?.stringValue)
            let dead = try await client.awaitJSON("/api/v1/commands/\(id)", key: tenant.adminKey) {
                $0["status"] == "dead" || $0["status"] == "succeeded"
            }
            #expect(dead["status"] == "dead")
            #expect(dead["error"]?["status"] == .int(404) && dead["error"]?["code"] == "NOT_FOUND")
            #expect(dead["attempts"] == .int(1))
            let runID = try #require(dead["run_id"]?.stringValue)
            let run = try await client.awaitJSON("/api/v1/runs/\(runID)", key: tenant.adminKey) {
                $0["status"] == "dead"
            }
            #expect(run["kind"] == "command.process")
            let failed = try await client.request(.get, "/api/v1/events?type=command.failed", key: tenant.adminKey)
            #expect(try failed.json()["events"]?.arrayValue?.first?["causationid"] == .string(id))
            // Replay: a fresh run, which fails the same way (the instance is still unknown).
            let replayed = try await client.request(.post, "/api/v1/commands/\(id)/replay", key: tenant.adminKey)
            #expect(replayed.status == .ok, "\(replayed.text)")
            #expect(try replayed.json()["run_id"]?.stringValue != runID)
            let again = try await client.awaitJSON("/api/v1/commands/\(id)", key: tenant.adminKey) {
                $0["status"] == "dead" && $0["attempts"] == .int(2)
            }
            #expect(again["error"]?["code"] == "NOT_FOUND")
            // Only a dead command can be replayed.
            let created = try await client.request(
                .post, "/api/v1/commands", key: tenant.adminKey,
                json: #"{"action":"delete_instance","data":{"instance_id":"\#(missing)"},"request_id":"d-1"}"#)
            let other = try #require(try created.json()["id"]?.stringValue)
            _ = try await client.awaitJSON("/api/v1/commands/\(other)", key: tenant.adminKey) { $0["status"] == "dead" }
            let replay = try await client.request(.post, "/api/v1/commands/\(other)/replay", key: tenant.adminKey)
            #expect(replay.status == .ok)
            _ = try await client.awaitJSON("/api/v1/commands/\(other)", key: tenant.adminKey) { $0["status"] == "dead" }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func badCommandsAreRefusedNamingTheFieldAndStoreNothing(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let tenant = try await TenantFixture.make(client, slug: "refused")
            let other = try await TenantFixture.make(client, slug: "elsewhere")
            let agent = try await Self.agent(client)
            let unknownAgent = UUIDv7.make().lowercasedString
            let refused: [(String, Int, String)] = [
                (#"{"action":"create_instance","data":{"agent_id":"\#(agent)","name":"x"}}"#, 422, "/request_id"),
                (#"{"action":"create_instance","data":{"agent_id":"\#(agent)"},"request_id":"a"}"#, 422, "/data/name"),
                (#"{"action":"create_instance","data":{"name":"x"},"request_id":"a"}"#, 422, "/data/agent_id"),
                (
                    #"{"action":"create_instance","data":{"agent_id":"\#(unknownAgent)","name":"x"},"request_id":"a"}"#,
                    422, "/data/agent_id"
                ),
                (#"{"action":"update_instance","data":{"name":"x"},"request_id":"a"}"#, 422, "/data/instance_id"),
                (
                    #"{"action":"delete_instance","data":{"instance_id":"nope"},"request_id":"a"}"#, 422,
                    "/data/instance_id"
                ),
                (
                    #"{"action":"update_instance","data":{"instance_id":"\#(agent)","version":0},"request_id":"a"}"#,
                    422,
                    "/data/version"
                ),
                (
                    #"{"action":"delete_instance","data":{"instance_id":"\#(agent)"},"request_id":"a","client_id":"\#(other.id)"}"#,
                    403, "/client_id"
                ),
            ]
            for (body, status, pointer) in refused {
                let answer = try await client.request(.post, "/api/v1/commands", key: tenant.adminKey, json: body)
                #expect(Int(answer.status.code) == status, "\(body): \(answer.text)")
                #expect(
                    try answer.json()["errors"]?.arrayValue?.contains { $0["pointer"] == .string(pointer) } == true,
                    "\(body): \(answer.text)")
            }
            // A body field and a header that disagree.
            var headers: HTTPFields = [:]
            headers[HTTPField.Name("request_id")!] = "header-id"
            let conflict = try await client.request(
                .post, "/api/v1/commands", key: tenant.adminKey,
                json: #"{"action":"delete_instance","data":{"instance_id":"\#(agent)"},"request_id":"body-id"}"#,
                headers: headers)
            #expect(conflict.status == .unprocessableContent)
            // A key that may submit commands but not change instances.
            let limited = try await TenantFixture.make(
                client, slug: "limited", role: "member", scopes: ["commands:write", "commands:read"])
            let scoped = try await client.request(
                .post, "/api/v1/commands", key: limited.adminKey,
                json: #"{"action":"delete_instance","data":{"instance_id":"\#(agent)"},"request_id":"a"}"#)
            #expect(scoped.status == .forbidden, "\(scoped.text)")
            for key in [tenant.adminKey, limited.adminKey] {
                let listed = try await client.request(.get, "/api/v1/commands", key: key).json()
                #expect(listed["commands"]?.arrayValue?.isEmpty == true)
            }
        }
    }
}
