import AgentplaneCore
import AgentplaneHTTP
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import JWTKit
import Testing

/// The tasks API on a live server (no worker: fires stay queued): seed 004's briefing task through the
/// `/tasks` alias with every default, list filters and pages, `If-Match`, the state machine's 409s,
/// snooze, 422s that name the field and create nothing, the schedule preview, and the scopes.
@Suite struct TasksAPITests {
    /// Seed 004's "Create a Morning Briefing Task" body, verbatim but for built-in tools in place of the
    /// MCP ones (MCP servers are not registered here).
    static let briefing = #"""
        {
            "title": "Morning Briefing",
            "description": "Daily morning briefing with calendar and weather",
            "schedule_kind": "rrule",
            "schedule_expr": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=8;BYMINUTE=30",
            "timezone": "Europe/Chisinau",
            "payload": {
              "pipeline": [
                {"id": "weather", "uses": "log", "with": {"message": "Sunny, 21 degrees in Chisinau"}, "save_as": "weather"},
                {"id": "notify", "uses": "log", "with": {"chat_id": 12345, "text": "${steps.weather.logged}"}}
              ]
            },
            "created_by": "00000000-0000-0000-0000-000000000001"
          }
        """#

    /// A task body: a `*/5` cron with one `log` step unless told otherwise.
    static func body(
        kind: String = "cron", expr: String = "*/5 * * * *", extra: String = "",
        pipeline: String = #"[{"id":"a","uses":"log","with":{"message":"hi"}}]"#
    ) -> String {
        #"{"title":"T","schedule_kind":"\#(kind)","schedule_expr":"\#(expr)","payload":{"pipeline":\#(pipeline)}\#(extra)}"#
    }

    /// Creates a task; answers its JSON.
    static func create(_ client: any TestClientProtocol, key: String, _ json: String, path: String = "/api/v1/tasks")
        async throws -> JSONValue
    {
        let response = try await client.request(.post, path, key: key, json: json)
        #expect(response.status == .created, "\(response.text)")
        return try response.json()
    }

    static func pointers(_ response: TestResponse) throws -> [String] {
        try response.json()["errors"]?.arrayValue?.compactMap { $0["pointer"]?.stringValue } ?? []
    }

    @Test(arguments: TestBackend.allCases)
    func seedBriefingTaskIsCreatedThroughTheAliasWithEveryDefault(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let acme = try await TenantFixture.make(client, slug: "acme")
            let response = try await client.request(.post, "/tasks", key: acme.adminKey, json: Self.briefing)
            #expect(response.status == .created, "\(response.text)")
            #expect(response.headers[.eTag] == "\"1\"")
            let task = try response.json()
            #expect(task["title"] == "Morning Briefing" && task["schedule_kind"] == "rrule")
            #expect(task["timezone"] == "Europe/Chisinau" && task["status"] == "active")
            #expect(
                task["priority"] == .int(5) && task["max_retries"] == .int(3)
                    && task["dedupe_window_seconds"] == .int(0))
            #expect(task["backoff_strategy"] == "exponential_jitter" && task["misfire_policy"] == "run_once")
            #expect(task["created_by"] == "00000000-0000-0000-0000-000000000001")
            #expect(task["called_by"] != nil && task["called_by"] != task["created_by"])
            #expect(task["version"] == .int(1) && task["tenant_id"] == .string(acme.id))
            #expect(task["payload"]?["pipeline"]?.arrayValue?.count == 2)
            // 08:30 in Chisinau is 05:30 or 06:30 UTC, on a weekday.
            let next = try #require(task["next_run_at"]?.stringValue)
            #expect(next.contains("T05:30:00") || next.contains("T06:30:00"), "\(next)")
            let id = try #require(task["id"]?.stringValue)
            // The alias and the canonical route answer the same.
            let viaAlias = try await client.request(.get, "/tasks/\(id)", key: acme.adminKey)
            let canonical = try await client.request(.get, "/api/v1/tasks/\(id)", key: acme.adminKey)
            #expect(try viaAlias.status == .ok && viaAlias.json() == canonical.json())
            // A task without created_by is the caller's.
            let own = try await Self.create(client, key: acme.adminKey, Self.body())
            #expect(own["created_by"] == own["called_by"] && own["timezone"] == "UTC")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func tasksAreListedByStatusCreatorAndKindInPages(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let acme = try await TenantFixture.make(client, slug: "acme")
            let briefing = try await Self.create(client, key: acme.adminKey, Self.briefing, path: "/tasks")
            let cron = try await Self.create(client, key: acme.adminKey, Self.body())
            let event = try await Self.create(client, key: acme.adminKey, Self.body(kind: "event", expr: "order.*"))
            let paused = try await Self.create(client, key: acme.adminKey, Self.body(extra: #","created_by":"bot""#))
            let pausedID = try #require(paused["id"]?.stringValue)
            #expect(try await client.request(.post, "/tasks/\(pausedID)/pause", key: acme.adminKey).status == .ok)

            func ids(_ query: String) async throws -> [String] {
                let page = try await client.request(.get, "/tasks?\(query)", key: acme.adminKey)
                #expect(page.status == .ok, "\(page.text)")
                return try page.json()["tasks"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            }
            let all = try [briefing, cron, event, paused].map { try #require($0["id"]?.stringValue) }
            #expect(try await ids("") == all)
            #expect(try await ids("status=paused") == [pausedID])
            #expect(try await ids("created_by=00000000-0000-0000-0000-000000000001") == [all[0]])
            #expect(try await ids("schedule_kind=event") == [all[2]])
            #expect(try await ids("status=active&schedule_kind=cron") == [all[1]])
            let first = try await client.request(.get, "/api/v1/tasks?limit=3", key: acme.adminKey).json()
            #expect(first["tasks"]?.arrayValue?.count == 3)
            let cursor = try #require(first["next_cursor"]?.stringValue)
            #expect(try await ids("limit=3&cursor=\(cursor)") == [pausedID])
            let bad = try await client.request(.get, "/tasks?status=sleeping", key: acme.adminKey)
            #expect(bad.status == .badRequest)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func updatesNeedTheCurrentETagAndIllegalStepsAreConflictsNamingBothStates(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let acme = try await TenantFixture.make(client, slug: "acme")
            let task = try await Self.create(client, key: acme.adminKey, Self.body())
            let id = try #require(task["id"]?.stringValue)
            let put = try await client.request(
                .put, "/tasks/\(id)", key: acme.adminKey, json: #"{"title":"Renamed","priority":2}"#,
                headers: [.ifMatch: "\"1\""])
            #expect(put.status == .ok, "\(put.text)")
            #expect(put.headers[.eTag] == "\"2\"")
            #expect(try put.json()["title"] == "Renamed" && put.json()["priority"] == .int(2))
            let stale = try await client.request(
                .put, "/tasks/\(id)", key: acme.adminKey, json: #"{"title":"Again"}"#, headers: [.ifMatch: "\"1\""])
            #expect(stale.status == .preconditionFailed, "\(stale.text)")
            #expect(try await client.request(.get, "/tasks/\(id)", key: acme.adminKey).json()["title"] == "Renamed")

            func step(_ action: String) async throws -> TestResponse {
                try await client.request(.post, "/api/v1/tasks/\(id)/\(action)", key: acme.adminKey)
            }
            #expect(try await step("pause").json()["status"] == "paused")
            let twice = try await step("pause")
            #expect(twice.status == .conflict)
            #expect(try twice.json()["code"] == "ILLEGAL_TRANSITION")
            #expect(try twice.json()["details"] == .object(["from": "paused", "to": "paused"]))
            #expect(try await step("resume").json()["status"] == "active")
            #expect(try await step("cancel").json()["status"] == "cancelled")
            let resume = try await step("resume")
            #expect(resume.status == .conflict)
            #expect(try resume.json()["details"] == .object(["from": "cancelled", "to": "active"]))
            let run = try await step("run_now")
            #expect(try run.status == .conflict && run.json()["code"] == "ILLEGAL_TRANSITION")
            let change = try await client.request(.put, "/tasks/\(id)", key: acme.adminKey, json: #"{"title":"x"}"#)
            #expect(change.status == .conflict)
            #expect(try await client.request(.delete, "/tasks/\(id)", key: acme.adminKey).status == .noContent)
            #expect(try await client.request(.get, "/tasks/\(id)", key: acme.adminKey).status == .notFound)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func snoozeDelaysTheNextFireAndRefusesBadSecondsAndEventTasks(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let acme = try await TenantFixture.make(client, slug: "acme")
            let task = try await Self.create(client, key: acme.adminKey, Self.body(expr: "0 9 * * *"))
            let id = try #require(task["id"]?.stringValue)
            let before = try #require(task["next_run_at"]?.stringValue)
            let snoozed = try await client.request(
                .post, "/tasks/\(id)/snooze", key: acme.adminKey, json: #"{"seconds":3600}"#)
            #expect(snoozed.status == .ok, "\(snoozed.text)")
            let after = try #require(try snoozed.json()["next_run_at"]?.stringValue)
            #expect(Self.seconds(after) - Self.seconds(before) == 3600, "\(before) → \(after)")
            for seconds in [0, 40_000_000] {
                let refused = try await client.request(
                    .post, "/tasks/\(id)/snooze", key: acme.adminKey, json: #"{"seconds":\#(seconds)}"#)
                #expect(refused.status == .unprocessableContent, "\(refused.text)")
                #expect(try Self.pointers(refused) == ["/seconds"])
            }
            let event = try await Self.create(client, key: acme.adminKey, Self.body(kind: "event", expr: "order.*"))
            let eventID = try #require(event["id"]?.stringValue)
            let refused = try await client.request(
                .post, "/tasks/\(eventID)/snooze", key: acme.adminKey, json: #"{"seconds":60}"#)
            #expect(refused.status == .unprocessableContent)
            #expect(
                try await client.request(.get, "/tasks/\(id)", key: acme.adminKey).json()["next_run_at"]
                    == .string(after))
        }
    }

    static func seconds(_ rfc3339: String) -> Int64 {
        (Timestamp(rfc3339: rfc3339)?.microsecondsSinceEpoch ?? 0) / 1_000_000
    }

    /// Bodies the API refuses, with the pointer the problem names.
    static let refused: [(String, String)] = [
        (body(extra: #","timezone":"Mars/Base""#), "/timezone"),
        (body(kind: "rrule", expr: "FREQ=HOURLY;BYSETPOS=0"), "/schedule_expr"),
        (body(expr: "0 0 * * * * *"), "/schedule_expr"),
        (
            body(pipeline: #"[{"id":"a","uses":"log","with":{"message":"${steps.a.logged}"}}]"#),
            "/payload/pipeline/0/with/message"
        ),
        (body(pipeline: #"[{"id":"a","uses":"nowhere.tool","with":{}}]"#), "/payload/pipeline/0/uses"),
        (body(extra: #","priority":10"#), "/priority"),
        (body(extra: #","instance_id":"\#(UUID().uuidString.lowercased())""#), "/instance_id"),
    ]

    @Test(arguments: TestBackend.allCases)
    func badInputIsAProblemNamingTheFieldAndCreatesNothing(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let acme = try await TenantFixture.make(client, slug: "acme")
            for (json, pointer) in Self.refused {
                let response = try await client.request(.post, "/tasks", key: acme.adminKey, json: json)
                #expect(response.status == .unprocessableContent, "\(pointer): \(response.text)")
                #expect(response.headers[.contentType]?.hasPrefix("application/problem+json") == true)
                let found = try Self.pointers(response)
                #expect(found.contains { $0.hasPrefix(pointer) }, "\(pointer) not in \(found)")
            }
            let list = try await client.request(.get, "/tasks", key: acme.adminKey).json()
            #expect(list["tasks"]?.arrayValue?.isEmpty == true)
            let created = try await client.request(.get, "/events?type=task.created", key: acme.adminKey).json()
            #expect(created["events"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func thePreviewShowsFireTimesAcrossADSTChangeAndNamesABadExpression(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let acme = try await TenantFixture.make(client, slug: "acme")
            func preview(_ query: String) async throws -> TestResponse {
                try await client.request(.get, "/api/v1/schedules/preview?\(query)", key: acme.adminKey)
            }
            func times(_ response: TestResponse) throws -> [String] {
                try response.json()["fire_times"]?.arrayValue?.compactMap {
                    $0.stringValue.map { String($0.prefix(19)) }
                }
                    ?? []
            }
            // Moldova springs forward on 29 March 2026: 09:00 local is 07:00Z before, 06:00Z after.
            let cron = try await preview(
                "schedule_kind=cron&schedule_expr=0%209%20*%20*%20*&timezone=Europe/Chisinau"
                    + "&after=2026-03-27T12:00:00Z&count=3")
            #expect(cron.status == .ok, "\(cron.text)")
            #expect(try times(cron) == ["2026-03-28T07:00:00", "2026-03-29T06:00:00", "2026-03-30T06:00:00"])
            let rrule = try await preview(
                "schedule_kind=rrule&schedule_expr=FREQ%3DWEEKLY%3BBYDAY%3DMO,FR%3BBYHOUR%3D8%3BBYMINUTE%3D30"
                    + "&timezone=Europe/Chisinau&after=2026-03-26T12:00:00Z&count=3")
            #expect(rrule.status == .ok, "\(rrule.text)")
            #expect(try times(rrule) == ["2026-03-27T06:30:00", "2026-03-30T05:30:00", "2026-04-03T05:30:00"])
            let bad = try await preview("schedule_kind=cron&schedule_expr=0%209%2032%20*%20*")
            #expect(bad.status == .badRequest, "\(bad.text)")
            #expect(try Self.pointers(bad) == ["schedule_expr"])
            let zone = try await preview("schedule_kind=cron&schedule_expr=0%209%20*%20*%20*&timezone=Mars/Base")
            #expect(try zone.status == .badRequest && Self.pointers(zone) == ["timezone"])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func theTaskQuotaHoldsUnderConcurrentCreatesAndAnIdempotentRetryIsOneTask(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let acme = try await TenantFixture.make(client, slug: "acme")
            // The same Idempotency-Key and body: the same answer, one task.
            let first = try await client.request(
                .post, "/tasks", key: acme.adminKey, json: Self.body(), headers: [.idempotencyKey: "brief-1"])
            let again = try await client.request(
                .post, "/tasks", key: acme.adminKey, json: Self.body(), headers: [.idempotencyKey: "brief-1"])
            #expect(first.status == .created && again.status == .created)
            #expect(try first.json()["id"] == again.json()["id"])
            _ = try await client.request(.patch, "/api/v1/tenants/\(acme.id)", json: #"{"quotas":{"max_tasks":3}}"#)
            // Seven concurrent creates against the two places left: exactly two succeed.
            let statuses = try await withThrowingTaskGroup(of: UInt.self) { group in
                for _ in 0..<7 {
                    group.addTask {
                        try await client.request(.post, "/api/v1/tasks", key: acme.adminKey, json: Self.body()).status
                            .code.magnitude
                    }
                }
                return try await group.reduce(into: [UInt]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 201 }.count == 2, "\(statuses)")
            #expect(statuses.filter { $0 == 403 }.count == 5, "\(statuses)")
            let full = try await client.request(.post, "/tasks", key: acme.adminKey, json: Self.body())
            #expect(try full.json()["code"] == "QUOTA_EXCEEDED" && full.json()["details"]?["limit"] == .int(3))
            let list = try await client.request(.get, "/tasks", key: acme.adminKey).json()
            #expect(list["tasks"]?.arrayValue?.count == 3)
            // A delete gives its place back.
            let id = try #require(list["tasks"]?.arrayValue?.first?["id"]?.stringValue)
            #expect(try await client.request(.delete, "/tasks/\(id)", key: acme.adminKey).status == .noContent)
            #expect(try await client.request(.post, "/tasks", key: acme.adminKey, json: Self.body()).status == .created)
        }
    }

    /// What a credential holding only `tasks:read` in `acme` may do with acme's tasks.
    static func checkReadOnly(_ client: any TestClientProtocol, reader: String, acme: TenantFixture) async throws {
        let task = try await Self.create(client, key: acme.adminKey, Self.body())
        let id = try #require(task["id"]?.stringValue)
        let refused = try await client.request(.post, "/tasks", key: reader, json: Self.body())
        #expect(refused.status == .forbidden, "\(refused.text)")
        #expect(try await client.request(.post, "/tasks/\(id)/run_now", key: reader).status == .forbidden)
        #expect(try await client.request(.post, "/tasks/\(id)/pause", key: reader).status == .forbidden)
        #expect(try await client.request(.delete, "/tasks/\(id)", key: reader).status == .forbidden)
        #expect(try await client.request(.get, "/tasks/\(id)", key: reader).status == .ok)
        let list = try await client.request(.get, "/tasks", key: reader).json()
        #expect(list["tasks"]?.arrayValue?.count == 1)
        let preview = try await client.request(
            .get, "/api/v1/schedules/preview?schedule_kind=cron&schedule_expr=@hourly", key: reader)
        #expect(preview.status == .ok, "\(preview.text)")
        #expect(try await client.request(.get, "/runs?task_id=\(id)", key: reader).status == .forbidden)
    }

    @Test(arguments: TestBackend.allCases)
    func aTokenWithOnlyTasksReadReadsTasksButCannotCreateChangeOrRunThem(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let acme = try await TenantFixture.make(client, slug: "acme")
            let keys = JWTKeyCollection()
            await keys.add(hmac: HMACKey(from: testJWTSecret), digestAlgorithm: .sha256, kid: "agentplane")
            let reader = try await keys.sign(
                AccessClaims(
                    sub: .init(value: UUID().uuidString), tenantID: acme.id, orgID: nil, role: "member",
                    scopes: ["tasks:read"], exp: .init(value: Date().addingTimeInterval(3600)),
                    iat: .init(value: Date()), nbf: nil, jti: nil, iss: .init(value: "agentplane"), aud: nil),
                kid: "agentplane")
            try await Self.checkReadOnly(client, reader: reader, acme: acme)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aKeyWithOnlyTasksReadReadsTasksButCannotCreateChangeOrRunThem(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let acme = try await TenantFixture.make(client, slug: "acme")
            let account = try await client.request(
                .post, "/api/v1/service-accounts", json: #"{"name":"reader","role":"member","scopes":["tasks:read"]}"#,
                headers: [.tenantID: acme.id])
            #expect(account.status == .created, "\(account.text)")
            let accountID = try #require(try account.json()["id"]?.stringValue)
            let issued = try await client.request(
                .post, "/api/v1/service-accounts/\(accountID)/keys", json: "{}", headers: [.tenantID: acme.id])
            let reader = try #require(try issued.json()["key"]?.stringValue)
            try await Self.checkReadOnly(client, reader: reader, acme: acme)
        }
    }
}
