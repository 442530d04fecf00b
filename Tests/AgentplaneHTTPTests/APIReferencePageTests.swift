import AgentplaneCore
import Testing

@testable import AgentplaneHTTP

@Suite struct APIReferencePageTests {
    static let widgetRef: JSONValue = .object(["$ref": .string("#/components/schemas/Widget")])

    static let document: JSONValue = .object([
        "openapi": .string("3.1.0"),
        "info": .object([
            "title": .string("Widget API"),
            "version": .string("1.2.3"),
            "description": .string("Manages widgets.\nBeware: <script>alert(1)</script> & \"quotes\" 'too'"),
        ]),
        "tags": .array([.object(["name": .string("widgets"), "description": .string("Widget operations")])]),
        "security": .array([.object(["bearer": .array([])])]),
        "paths": .object([
            "/widgets": .object([
                "get": .object([
                    "operationId": .string("listWidgets"),
                    "tags": .array([.string("widgets")]),
                    "summary": .string("List widgets"),
                    "responses": .object([
                        "200": .object([
                            "description": .string("All widgets"),
                            "content": .object([
                                "application/json": .object([
                                    "schema": .object(["type": .string("array"), "items": widgetRef])
                                ])
                            ]),
                        ])
                    ]),
                ]),
                "post": .object([
                    "operationId": .string("createWidget"),
                    "tags": .array([.string("widgets")]),
                    "requestBody": .object([
                        "required": .bool(true),
                        "content": .object(["application/json": .object(["schema": widgetRef])]),
                    ]),
                    "responses": .object(["201": .object(["description": .string("Created")])]),
                ]),
            ]),
            "/widgets/{widgetId}": .object([
                "parameters": .array([.object(["$ref": .string("#/components/parameters/WidgetId")])]),
                "get": .object([
                    "operationId": .string("getWidget"),
                    "tags": .array([.string("widgets")]),
                    "responses": .object([
                        "200": .object([
                            "description": .string("The widget"),
                            "content": .object(["application/json": .object(["schema": widgetRef])]),
                        ]),
                        "404": .object(["description": .string("Not found")]),
                    ]),
                ]),
                "delete": .object([
                    "security": .array([]),
                    "responses": .object(["204": .object(["description": .string("Deleted")])]),
                ]),
            ]),
        ]),
        "components": .object([
            "parameters": .object([
                "WidgetId": .object([
                    "name": .string("widgetId"),
                    "in": .string("path"),
                    "required": .bool(true),
                    "schema": .object(["type": .string("string"), "format": .string("uuid")]),
                ])
            ]),
            "schemas": .object([
                "Widget": .object([
                    "type": .string("object"),
                    "required": .array([.string("id"), .string("status")]),
                    "properties": .object([
                        "id": .object(["type": .string("string"), "format": .string("uuid")]),
                        "status": .object(["$ref": .string("#/components/schemas/WidgetStatus")]),
                        "note": .object([
                            "type": .array([.string("string"), .string("null")]),
                            "description": .string("Free text"),
                        ]),
                    ]),
                ]),
                "WidgetStatus": .object([
                    "type": .string("string"),
                    "enum": .array([.string("active"), .string("retired")]),
                ]),
            ]),
            "securitySchemes": .object([
                "bearer": .object(["type": .string("http"), "scheme": .string("bearer")])
            ]),
        ]),
    ])

    static let page = APIReferencePage.render(document)

    @Test func listsEveryOperationWithAnchor() {
        let page = Self.page
        #expect(page.contains("<code class=\"path\">/widgets</code>"))
        #expect(page.contains("<code class=\"path\">/widgets/{widgetId}</code>"))
        for operationID in ["listWidgets", "createWidget", "getWidget"] {
            #expect(page.contains("id=\"\(operationID)\""))
            #expect(page.contains("href=\"#\(operationID)\""))
        }
        // An operation without operationId is anchored by method and path, and filed under "Other".
        #expect(page.contains("id=\"delete-widgets-widgetId\""))
        #expect(page.contains("<h3>Other</h3>"))
        #expect(page.contains("<h3>widgets</h3>"))
    }

    @Test func resolvesParameterReferences() {
        #expect(Self.page.contains("<code>widgetId</code>"))
        #expect(Self.page.contains("uuid"))
    }

    @Test func rendersSchemasWithLinksAndEnums() {
        let page = Self.page
        #expect(page.contains("id=\"schema-Widget\""))
        #expect(page.contains("id=\"schema-WidgetStatus\""))
        #expect(page.contains("href=\"#schema-WidgetStatus\""))
        #expect(page.contains("WidgetStatus"))
        #expect(page.contains("<code>active</code>"))
        #expect(page.contains("<code>retired</code>"))
        #expect(page.contains("string | null"))
    }

    @Test func listsSecuritySchemes() {
        #expect(Self.page.contains("id=\"security\""))
        #expect(Self.page.contains("<code>bearer</code>"))
    }

    @Test func escapesDocumentText() {
        let page = Self.page
        #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!page.contains("<script>alert"))
        #expect(page.contains("&amp; &quot;quotes&quot; &#39;too&#39;"))
    }

    @Test func referencesNoExternalResources() {
        let page = Self.page.lowercased()
        for needle in ["src=\"http", "href=\"http", "src='http", "href='http", "url(http", "@import"] {
            #expect(!page.contains(needle), "unexpected external reference \(needle)")
        }
    }

    @Test func isDeterministic() {
        #expect(APIReferencePage.render(Self.document) == APIReferencePage.render(Self.document))
    }
}
