import AgentplaneCore
import Testing

@Suite struct PipelineParsingTests {
    /// The seed's morning-briefing payload.
    static let seedPayload: JSONValue = [
        "pipeline": .array([
            ["id": "weather", "uses": "weather-mcp.forecast", "with": ["city": "Chisinau"], "save_as": "weather"],
            [
                "id": "notify", "uses": "telegram-mcp.send_message",
                "with": ["chat_id": .int(12_345), "text": "${steps.weather.summary}"],
            ],
        ])
    ]

    @Test func parsesTheSeedPipeline() throws {
        let pipeline = try Pipeline.parse(payload: Self.seedPayload)
        #expect(pipeline.steps.map(\.id) == ["weather", "notify"])
        #expect(pipeline.steps[0].saveAs == "weather")
        #expect(pipeline.steps[1].server == "telegram-mcp")
        #expect(pipeline.steps[1].tool == "send_message")
        #expect(pipeline.steps[1].with["chat_id"] == .int(12_345))
        #expect(pipeline.toolNames() == ["weather-mcp.forecast", "telegram-mcp.send_message"])
    }

    @Test func parsesEveryOptionalField() throws {
        let payload: JSONValue = [
            "pipeline": .array([
                ["id": "fetch", "uses": "http.request", "save_as": "page", "timeout_seconds": .double(2.5)],
                [
                    "id": "log", "uses": "log.write", "if": "steps.page.status == 200 and event.data.ok",
                    "retry": ["max_attempts": .int(3), "delay_seconds": .int(1)],
                    "with": ["a": "${secrets.API_KEY} ${env.REGION}", "b": .array(["${secrets.OTHER}"])],
                ],
                ["id": "again", "uses": "http.request", "retry": ["max_attempts": .double(2)]],
            ])
        ]
        let pipeline = try Pipeline.parse(payload: payload)
        #expect(pipeline.steps[0].timeoutSeconds == 2.5)
        #expect(pipeline.steps[1].condition?.text == "steps.page.status == 200 and event.data.ok")
        #expect(pipeline.steps[1].retry == StepRetry(maxAttempts: 3, delaySeconds: 1))
        #expect(pipeline.steps[2].retry == StepRetry(maxAttempts: 2, delaySeconds: 0))
        #expect(pipeline.toolNames() == ["http.request", "log.write"])
        #expect(pipeline.referencedSecrets == ["API_KEY", "OTHER"])
        #expect(pipeline.referencedEnv == ["REGION"])
    }

    /// `uses` splits at the first dot (tool names may hold dots); a bare name is a built-in.
    @Test func usesSplitsAtTheFirstDotAndBareNamesAreBuiltIns() throws {
        let pipeline = try Pipeline.parse(
            payload: [
                "pipeline": .array([["id": "a", "uses": "files-mcp.fs.read"], ["id": "b", "uses": "log"]])
            ])
        #expect(pipeline.steps[0].server == "files-mcp")
        #expect(pipeline.steps[0].tool == "fs.read")
        #expect(pipeline.steps[1].server == "")
        #expect(pipeline.steps[1].tool == "log")
    }

    /// One invalid step (the second, after a valid `first`) at a time: the pointer and a message fragment.
    @Test(
        arguments: [
            (["uses": "http.request"], "/payload/pipeline/1/id", "is required"),
            (["id": "a b", "uses": "http.request"], "/payload/pipeline/1/id", "must be 1 to 64 characters"),
            (
                ["id": .string(String(repeating: "x", count: 65)), "uses": "http.request"], "/payload/pipeline/1/id",
                "1 to 64"
            ),
            (["id": .int(1), "uses": "http.request"], "/payload/pipeline/1/id", "must be 1 to 64"),
            (["id": "first", "uses": "http.request"], "/payload/pipeline/1/id", "'first' is already the id of step 0"),
            (["id": "s"], "/payload/pipeline/1/uses", "is required"),
            (["id": "s", "uses": "log/x"], "/payload/pipeline/1/uses", "must be '<server>.<tool>'"),
            (["id": "s", "uses": "http."], "/payload/pipeline/1/uses", "must be '<server>.<tool>'"),
            (["id": "s", "uses": ".request"], "/payload/pipeline/1/uses", "must be '<server>.<tool>'"),
            (["id": "s", "uses": "http request.x"], "/payload/pipeline/1/uses", "must be '<server>.<tool>'"),
            (["id": "s", "uses": "http.request", "with": "x"], "/payload/pipeline/1/with", "must be an object"),
            (
                ["id": "s", "uses": "http.request", "save_as": "first"], "/payload/pipeline/1/save_as",
                "already a name of step 0"
            ),
            (
                ["id": "s", "uses": "http.request", "save_as": "a.b"], "/payload/pipeline/1/save_as",
                "1 to 64 characters"
            ),
            (
                ["id": "s", "uses": "http.request", "timeout_seconds": .int(0)], "/payload/pipeline/1/timeout_seconds",
                "above 0"
            ),
            (
                ["id": "s", "uses": "http.request", "timeout_seconds": .int(3601)],
                "/payload/pipeline/1/timeout_seconds", "at most 3600"
            ),
            (
                ["id": "s", "uses": "http.request", "timeout_seconds": "5"], "/payload/pipeline/1/timeout_seconds",
                "a number"
            ),
            (["id": "s", "uses": "http.request", "retry": .int(3)], "/payload/pipeline/1/retry", "must be an object"),
            (
                ["id": "s", "uses": "http.request", "retry": [:]], "/payload/pipeline/1/retry/max_attempts",
                "is required"
            ),
            (
                ["id": "s", "uses": "http.request", "retry": ["max_attempts": .int(11)]],
                "/payload/pipeline/1/retry/max_attempts", "from 1 to 10"
            ),
            (
                ["id": "s", "uses": "http.request", "retry": ["max_attempts": .double(1.5)]],
                "/payload/pipeline/1/retry/max_attempts", "whole number"
            ),
            (
                ["id": "s", "uses": "http.request", "retry": ["max_attempts": .int(2), "delay_seconds": .int(-1)]],
                "/payload/pipeline/1/retry/delay_seconds", "from 0 to 3600"
            ),
            (
                ["id": "s", "uses": "http.request", "retry": ["max_attempts": .int(2), "backoff": "x"]],
                "/payload/pipeline/1/retry/backoff", "unknown key 'backoff'"
            ),
            (
                ["id": "s", "uses": "http.request", "timeout": .int(5)], "/payload/pipeline/1/timeout",
                "unknown key 'timeout'"
            ),
            (["id": "s", "uses": "http.request", "a/b": .int(5)], "/payload/pipeline/1/a~1b", "unknown key 'a/b'"),
            (
                ["id": "s", "uses": "http.request", "if": .bool(true)], "/payload/pipeline/1/if",
                "must be a condition expression string"
            ),
            (
                ["id": "s", "uses": "http.request", "if": "steps.first.ok =="], "/payload/pipeline/1/if",
                "at offset 17: expected a literal"
            ),
            (
                ["id": "s", "uses": "http.request", "if": "result.ok"], "/payload/pipeline/1/if",
                "'result.ok' must start with steps, event, task or instance"
            ),
            (["id": "s", "uses": "http.request", "if": "steps"], "/payload/pipeline/1/if", "must name a step"),
            (
                ["id": "s", "uses": "http.request", "if": "secrets.KEY"], "/payload/pipeline/1/if",
                "must start with steps, event, task or instance"
            ),
            (
                ["id": "s", "uses": "http.request", "with": ["t": "${steps.first"]], "/payload/pipeline/1/with/t",
                "at offset 0: unterminated '${'"
            ),
            (
                ["id": "s", "uses": "http.request", "with": ["t": "${nope.x}"]], "/payload/pipeline/1/with/t",
                "unknown root 'nope'"
            ),
            (
                ["id": "s", "uses": "http.request", "with": ["h": ["x~y": .array(["${}"])]]],
                "/payload/pipeline/1/with/h/x~0y/0", "empty reference"
            ),
            ("step", "/payload/pipeline/1", "must be an object"),
        ] as [(JSONValue, String, String)])
    func refusesAnInvalidStep(step: JSONValue, pointer: String, message: String) throws {
        let payload: JSONValue = ["pipeline": .array([["id": "first", "uses": "http.request"], step])]
        let errors = try #require(refusal(payload))
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.pointer == pointer, "\(errors)")
        #expect(errors.first?.message.contains(message) == true, "\(errors)")
    }

    /// References to itself, a later step or an unknown step, in `with` and in `if`.
    @Test(
        arguments: [
            (
                ["text": "${steps.notify.x}"], nil, "/payload/pipeline/1/with/text",
                "step 'notify' refers to itself in ${steps.notify.x}"
            ),
            (["text": "${steps.alias.x}"], nil, "/payload/pipeline/1/with/text", "step 'notify' refers to itself"),
            (
                ["text": "a ${steps.last.x} b"], nil, "/payload/pipeline/1/with/text",
                "step 'notify' refers to step 'last', which runs after it"
            ),
            (
                ["text": "${steps.later.x}"], nil, "/payload/pipeline/1/with/text",
                "refers to step 'later', which runs after it"
            ),
            (
                ["text": "${steps.zzz.x}"], nil, "/payload/pipeline/1/with/text",
                "step 'notify' refers to unknown step 'zzz' in ${steps.zzz.x}"
            ),
            (
                ["deep": .array([["text": "${steps.zzz}"]])], nil, "/payload/pipeline/1/with/deep/0/text",
                "unknown step 'zzz'"
            ),
            (
                [:], "steps.last.ok", "/payload/pipeline/1/if",
                "step 'notify' refers to step 'last', which runs after it, in 'steps.last.ok'"
            ),
            ([:], "exists(steps.notify.x)", "/payload/pipeline/1/if", "refers to itself"),
            ([:], "steps.zzz.ok or true", "/payload/pipeline/1/if", "unknown step 'zzz'"),
        ] as [([String: JSONValue], String?, String, String)])
    func refusesReferencesToStepsThatDoNotRunEarlier(
        with: [String: JSONValue], condition: String?, pointer: String, message: String
    ) throws {
        var notify: [String: JSONValue] = ["id": "notify", "uses": "telegram-mcp.send", "save_as": "alias"]
        notify["with"] = .object(with)
        if let condition { notify["if"] = .string(condition) }
        let payload: JSONValue = [
            "pipeline": .array([
                ["id": "first", "uses": "http.request", "save_as": "saved"], .object(notify),
                ["id": "last", "uses": "http.request", "save_as": "later"],
            ])
        ]
        let errors = try #require(refusal(payload))
        #expect(errors == [FieldError(pointer: pointer, message: errors.first?.message ?? "")], "\(errors)")
        #expect(errors.first?.message.contains(message) == true, "\(errors)")
    }

    @Test func earlierStepsMayBeReadByIdOrSaveAs() throws {
        let payload: JSONValue = [
            "pipeline": .array([
                ["id": "first", "uses": "http.request", "save_as": "saved"],
                [
                    "id": "second", "uses": "log.write", "if": "steps.first.ok and steps.saved.ok",
                    "with": ["a": "${steps.first.x}", "b": "${steps.saved.y}", "${steps.zzz}": "keys are not read"],
                ],
            ])
        ]
        #expect(try Pipeline.parse(payload: payload).steps.count == 2)
    }

    @Test func reportsEveryErrorNotOnlyTheFirst() throws {
        let payload: JSONValue = [
            "pipeline": .array([
                ["id": "a", "uses": "no dot", "timeout_seconds": .int(0)],
                ["id": "a", "uses": "x.y", "with": ["t": "${steps.b.z}"]],
            ])
        ]
        let errors = try #require(refusal(payload, pointer: "/tasks/0/payload"))
        #expect(
            Set(errors.map(\.pointer)) == [
                "/tasks/0/payload/pipeline/1/id", "/tasks/0/payload/pipeline/0/uses",
                "/tasks/0/payload/pipeline/0/timeout_seconds", "/tasks/0/payload/pipeline/1/with/t",
            ])
        #expect(errors.count == 4)
        let error = PipelineError(errors)
        #expect(error.validationError.code == .validationFailed)
        #expect(error.validationError.fieldErrors == errors)
    }

    /// The payload itself: an object whose `pipeline` is a list of 1 to 100 steps.
    @Test(
        arguments: [
            (JSONValue.array([]), "/payload", "must be an object"),
            (["steps": .array([])], "/payload/pipeline", "is required"),
            (["pipeline": ["id": "a"]], "/payload/pipeline", "must be a list of 1 to 100 steps"),
            (["pipeline": .array([])], "/payload/pipeline", "must be a list of 1 to 100 steps"),
            (
                [
                    "pipeline": .array(
                        (0...100).map { index -> JSONValue in ["id": .string("s\(index)"), "uses": "x.y"] })
                ],
                "/payload/pipeline", "1 to 100"
            ),
        ] as [(JSONValue, String, String)])
    func refusesAnInvalidPayload(payload: JSONValue, pointer: String, message: String) throws {
        let errors = try #require(refusal(payload))
        #expect(errors.map(\.pointer) == [pointer])
        #expect(errors.first?.message.contains(message) == true, "\(errors)")
    }

    @Test func acceptsAHundredSteps() throws {
        let steps = (0..<100).map { index -> JSONValue in
            [
                "id": .string("s\(index)"), "uses": "http.request",
                "with": ["prev": .string(index == 0 ? "x" : "${steps.s\(index - 1)}")],
            ]
        }
        #expect(try Pipeline.parse(payload: ["pipeline": .array(steps)]).steps.count == 100)
    }

    @Test func parsesAStepOnItsOwnWithADefaultID() throws {
        let step = try PipelineStep.parse(["uses": "http.request"], pointer: "/source", defaultID: "source")
        #expect(step.id == "source")
        #expect(throws: PipelineError([FieldError(pointer: "/source/id", message: "is required")])) {
            try PipelineStep.parse(["uses": "http.request"], pointer: "/source")
        }
    }

    private func refusal(_ payload: JSONValue, pointer: String = "/payload") -> [FieldError]? {
        do {
            _ = try Pipeline.parse(payload: payload, pointer: pointer)
            return nil
        } catch {
            return error.fieldErrors
        }
    }
}
