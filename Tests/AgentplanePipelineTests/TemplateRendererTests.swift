import AgentplaneCore
import Testing

@Suite struct TemplateRendererTests {
    static let context = RenderContext(
        steps: [
            "weather": [
                "summary": "Sunny, 21°C", "temp": .int(21), "ratio": .double(0.5), "ok": .bool(true), "none": .null,
                "days": .array([["name": "Mon"], ["name": "Tue"]]), "meta": ["b": .int(2), "a": "x"],
            ]
        ],
        event: ["type": "order.created", "data": ["amount": .int(150)]],
        task: ["id": "t1", "title": "Morning"],
        instance: ["id": "i1", "name": "Bot", "config": ["city": "Chisinau"], "owner": "hidden"],
        secrets: ["TOKEN": "s3cr3t-value"],
        env: ["REGION": "eu-1"])

    /// A string that is exactly one reference keeps the referenced value's JSON type.
    @Test(
        arguments: [
            ("${steps.weather.temp}", .int(21)),
            ("${steps.weather.ratio}", .double(0.5)),
            ("${steps.weather.ok}", .bool(true)),
            ("${steps.weather.none}", .null),
            ("${steps.weather.meta}", ["b": .int(2), "a": "x"]),
            ("${steps.weather.days.1.name}", "Tue"),
            ("${event.data.amount}", .int(150)),
            ("${event}", ["type": "order.created", "data": ["amount": .int(150)]]),
            ("${task.title}", "Morning"),
            ("${instance.config.city}", "Chisinau"),
            ("${instance.id}", "i1"),
            ("${secrets.TOKEN}", "s3cr3t-value"),
            ("${env.REGION}", "eu-1"),
        ] as [(String, JSONValue)])
    func soleReferenceKeepsItsType(template: String, expected: JSONValue) throws {
        #expect(try TemplateRenderer.render(.string(template), in: Self.context) == expected)
    }

    /// A reference inside a longer string is interpolated as text.
    @Test(
        arguments: [
            ("Today: ${steps.weather.summary}!", "Today: Sunny, 21°C!"),
            ("${steps.weather.temp} degrees", "21 degrees"),
            ("r=${steps.weather.ratio}", "r=0.5"),
            ("ok=${steps.weather.ok}, none=${steps.weather.none}", "ok=true, none=null"),
            ("meta ${steps.weather.meta}", "meta {\"a\":\"x\",\"b\":2}"),
            ("days ${steps.weather.days}", "days [{\"name\":\"Mon\"},{\"name\":\"Tue\"}]"),
            ("$${steps.weather.temp} is literal", "${steps.weather.temp} is literal"),
            ("$${not a reference", "${not a reference"),
            ("cost $5 and $$", "cost $5 and $$"),
            ("${env.REGION}/${task.id}", "eu-1/t1"),
            ("no references at all", "no references at all"),
        ] as [(String, String)])
    func interpolates(template: String, expected: String) throws {
        #expect(try TemplateRenderer.render(.string(template), in: Self.context) == .string(expected))
    }

    @Test func rendersRecursivelyAndLeavesKeysAlone() throws {
        let value: JSONValue = [
            "chat_id": .int(12_345), "${steps.weather.temp}": "${steps.weather.temp}",
            "list": .array(["${task.id}", .array(["x ${env.REGION}"]), .bool(false)]),
        ]
        let expected: JSONValue = [
            "chat_id": .int(12_345), "${steps.weather.temp}": .int(21),
            "list": .array(["t1", .array(["x eu-1"]), .bool(false)]),
        ]
        #expect(try TemplateRenderer.render(value, in: Self.context) == expected)
    }

    /// Unknown references fail with the reference as written and what is missing.
    @Test(
        arguments: [
            ("${steps.forecast.summary}", "steps.forecast.summary", "step 'forecast' has no output yet"),
            ("x ${steps.weather.wind}", "steps.weather.wind", "'wind' is not a key of steps.weather"),
            ("${steps.weather.days.2.name}", "steps.weather.days.2.name", "index 2 is out of range"),
            ("${steps.weather.days.first}", "steps.weather.days.first", "'first' is not an index"),
            ("${steps.weather.temp.value}", "steps.weather.temp.value", "steps.weather.temp is a number"),
            ("${secrets.MISSING}", "secrets.MISSING", "secret 'MISSING' is not set"),
            ("${env.HOME}", "env.HOME", "env 'HOME' is not allowed"),
            ("${instance.config.lang}", "instance.config.lang", "'lang' is not a key of instance.config"),
            ("${oops", "${oops", "unterminated '${'"),
        ] as [(String, String, String)])
    func unknownReferenceFails(template: String, path: String, message: String) {
        do {
            let rendered = try TemplateRenderer.render(["text": .string(template)], in: Self.context)
            Issue.record("rendered \(rendered)")
        } catch {
            #expect(error.path == path)
            #expect(error.message.contains(message), "\(error)")
        }
    }

    @Test func missingEventAndInstanceAreNamed() {
        let bare = RenderContext(task: ["id": "t1"])
        #expect(throws: RenderError(path: "event.type", message: "there is no event: the run was not started by one")) {
            try TemplateRenderer.render("${event.type}", in: bare)
        }
        #expect(throws: RenderError.self) { try TemplateRenderer.render("${instance.id}", in: bare) }
    }

    /// Parse errors: the offset in the string and the problem.
    @Test(
        arguments: [
            ("a ${steps.x", 2, "unterminated '${'"),
            ("${}", 2, "empty reference"),
            ("${steps}", 2, "must name a step"),
            ("${steps..x}", 8, "empty path segment"),
            ("${steps.a b}", 9, "' ' is not allowed"),
            ("${config.city}", 2, "unknown root 'config'"),
            ("${secrets}", 2, "must be secrets.NAME"),
            ("${env.A.B}", 2, "must be env.NAME"),
            ("${instance.owner}", 2, "may only read instance.config"),
            ("${instance.id.x}", 2, "has no fields below id"),
        ] as [(String, Int, String)])
    func refusesMalformedTemplates(text: String, offset: Int, message: String) {
        do {
            let template = try Template.parse(text)
            Issue.record("parsed \(template)")
        } catch {
            #expect(error.offset == offset, "\(error)")
            #expect(error.message.contains(message), "\(error)")
        }
    }

    @Test func parsesPartsAndReferences() throws {
        let template = try Template.parse("Hi ${task.title}, $${x} ${steps.a.b.0}")
        #expect(
            template.parts == [
                .literal("Hi "), .reference(TemplateReference(root: .task, path: ["title"])), .literal(", ${x} "),
                .reference(TemplateReference(root: .steps, path: ["a", "b", "0"])),
            ])
        #expect(template.soleReference == nil)
        #expect(template.references.map(\.description) == ["task.title", "steps.a.b.0"])
        #expect(try Template.parse("${steps.a}").soleReference?.stepName == "a")
    }

    @Test func masksEverySecretValue() {
        let secrets = ["TOKEN": "s3cr3t-value", "SHORT": "abc", "INNER": "s3cr3t", "EMPTY": ""]
        let log: JSONValue = [
            "url": "https://api.example/?t=s3cr3t-value&x=s3cr3t",
            "headers": ["Authorization": "Bearer s3cr3t-value"],
            "list": .array(["abc is short", .int(3)]),
            "s3cr3t-value": "key",
        ]
        let expected: JSONValue = [
            "url": "https://api.example/?t=***&x=***",
            "headers": ["Authorization": "Bearer ***"],
            "list": .array(["abc is short", .int(3)]),
            "***": "key",
        ]
        #expect(TemplateRenderer.masked(log, secrets: secrets) == expected)
        #expect(TemplateRenderer.masked(log, secrets: [:]) == log)
    }

    @Test func conditionRootExposesOnlyInstanceIdNameAndConfig() {
        let root = Self.context.conditionRoot
        #expect(root["instance"] == ["id": "i1", "name": "Bot", "config": ["city": "Chisinau"]])
        #expect(root["steps"]?["weather"]?["temp"] == .int(21))
        #expect(root["secrets"] == nil)
        #expect(root["event"]?["type"] == "order.created")
    }
}
