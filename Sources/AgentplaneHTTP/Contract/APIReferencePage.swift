import AgentplaneCore

/// Renders a self-contained, offline HTML reference of an OpenAPI 3.1 document (served at /docs).
package enum APIReferencePage {
    /// The whole HTML page for `document`.
    package static func render(_ document: JSONValue) -> String {
        let operations = collectOperations(in: document)
        let title = document["info"]?["title"]?.stringValue ?? "API Reference"
        var html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        html += "<title>\(escape(title))</title>\n<style>\(stylesheet)</style>\n</head>\n<body>\n<main>\n"
        html += header(document, title: title)
        html += tableOfContents(operations, document: document)
        html += securitySection(document)
        if !operations.isEmpty {
            html += "<section id=\"operations\"><h2>Operations</h2>\n"
            html += operations.map { operationSection($0, document: document) }.joined()
            html += "</section>\n"
        }
        html += schemasSection(document)
        html += "</main>\n</body>\n</html>\n"
        return html
    }

    private struct Operation {
        let method: String
        let path: String
        let anchor: String
        let tags: [String]
        let spec: JSONValue
        let inheritedParameters: [JSONValue]
    }

    private static let methods = ["get", "put", "post", "patch", "delete", "head", "options"]
    private static let compositionKeys = ["allOf", "oneOf", "anyOf"]
    private static let schemaRefPrefix = "#/components/schemas/"
    private static let requiredMarker = "<span class=\"required\">required</span>"

    // MARK: - Page sections

    private static func header(_ document: JSONValue, title: String) -> String {
        let info = document["info"]
        var html = "<header>\n<h1>\(escape(title))</h1>\n"
        var meta: [String] = []
        if let version = info?["version"]?.stringValue { meta.append("Version \(escape(version))") }
        if let openapi = document["openapi"]?.stringValue { meta.append("OpenAPI \(escape(openapi))") }
        if !meta.isEmpty { html += "<p class=\"meta\">\(meta.joined(separator: " &middot; "))</p>\n" }
        if let summary = info?["summary"]?.stringValue { html += "<p class=\"summary\">\(escape(summary))</p>\n" }
        html += descriptionBlock(info?["description"])
        return html + "</header>\n"
    }

    private static func tableOfContents(_ operations: [Operation], document: JSONValue) -> String {
        let declaredTags = document["tags"]?.arrayValue ?? []
        let tagDescriptions = Dictionary(
            declaredTags.compactMap { tag in tag["name"]?.stringValue.map { ($0, tag["description"]) } },
            uniquingKeysWith: { first, _ in first })
        let usedTags = Set(operations.flatMap(\.tags))
        // Declared tag order is the author's intended reading order; undeclared tags follow alphabetically.
        var seen = Set<String>()
        var order = declaredTags.compactMap { $0["name"]?.stringValue }.filter {
            usedTags.contains($0) && seen.insert($0).inserted
        }
        order += usedTags.subtracting(order).sorted()
        var groups = order.map { tag in (tag, operations.filter { $0.tags.contains(tag) }) }
        let untagged = operations.filter(\.tags.isEmpty)
        if !untagged.isEmpty { groups.append(("Other", untagged)) }

        var html = "<nav id=\"contents\"><h2>Contents</h2>\n"
        for (tag, members) in groups {
            html += "<h3>\(escape(tag))</h3>\n" + descriptionBlock(tagDescriptions[tag] ?? nil) + "<ul>\n"
            for operation in members {
                let summary = operation.spec["summary"]?.stringValue.map { " " + escape($0) } ?? ""
                html += "<li><a href=\"#\(escape(operation.anchor))\">\(badge(operation.method)) "
                html += "<code>\(escape(operation.path))</code></a>\(summary)</li>\n"
            }
            html += "</ul>\n"
        }
        if !sortedMembers(document["components"]?["schemas"]).isEmpty {
            html += "<h3><a href=\"#schemas\">Schemas</a></h3>\n"
        }
        return html + "</nav>\n"
    }

    private static func securitySection(_ document: JSONValue) -> String {
        let schemes = sortedMembers(document["components"]?["securitySchemes"])
        let requirements = document["security"]?.arrayValue
        guard !schemes.isEmpty || requirements != nil else { return "" }
        var html = "<section id=\"security\"><h2>Security</h2>\n"
        if let requirements { html += "<p>Default requirement: \(requirementsText(requirements))</p>\n" }
        let rows = schemes.map { name, raw in
            let scheme = resolve(raw, in: document)
            let details = ["scheme", "bearerFormat", "in", "name", "openIdConnectUrl"].compactMap { key in
                scheme[key]?.stringValue.map { "\(key): \($0)" }
            }
            return [
                "<code>\(escape(name))</code>", text(scheme["type"]), escape(details.joined(separator: ", ")),
                descriptionBlock(scheme["description"]),
            ]
        }
        if !rows.isEmpty { html += table(["Scheme", "Type", "Details", "Description"], rows) }
        return html + "</section>\n"
    }

    private static func operationSection(_ operation: Operation, document: JSONValue) -> String {
        let spec = operation.spec
        var html = "<article class=\"operation\" id=\"\(escape(operation.anchor))\">\n"
        html += "<h3>\(badge(operation.method)) <code class=\"path\">\(escape(operation.path))</code>"
        if spec["deprecated"] == .bool(true) { html += " <span class=\"deprecated\">deprecated</span>" }
        html += "</h3>\n"
        if let summary = spec["summary"]?.stringValue { html += "<p class=\"summary\">\(escape(summary))</p>\n" }
        var meta: [String] = []
        if let operationID = spec["operationId"]?.stringValue {
            meta.append("operationId <code>\(escape(operationID))</code>")
        }
        if let security = spec["security"]?.arrayValue { meta.append("security: \(requirementsText(security))") }
        if !meta.isEmpty { html += "<p class=\"meta\">\(meta.joined(separator: " &middot; "))</p>\n" }
        html += descriptionBlock(spec["description"])
        html += parametersTable(parameters(of: operation, document: document))
        html += requestBodySection(spec["requestBody"], document: document)
        html += responsesSection(spec["responses"], document: document)
        return html + "</article>\n"
    }

    private static func parametersTable(_ parameters: [JSONValue]) -> String {
        guard !parameters.isEmpty else { return "" }
        let rows = parameters.map { parameter in
            // A parameter may describe its value through `content` instead of `schema`.
            let schema = parameter["schema"] ?? sortedMembers(parameter["content"]).first?.value["schema"]
            return [
                "<code>\(text(parameter["name"]))</code>", text(parameter["in"]),
                parameter["required"] == .bool(true) ? requiredMarker : "optional",
                schema.map(typeLabel) ?? "", descriptionBlock(parameter["description"]),
            ]
        }
        return "<h4>Parameters</h4>\n" + table(["Name", "In", "Required", "Type", "Description"], rows)
    }

    private static func requestBodySection(_ raw: JSONValue?, document: JSONValue) -> String {
        guard let raw else { return "" }
        let body = resolve(raw, in: document)
        let required = body["required"] == .bool(true) ? " " + requiredMarker : ""
        return "<h4>Request body\(required)</h4>\n" + descriptionBlock(body["description"])
            + contentBlock(body["content"])
    }

    private static func responsesSection(_ responses: JSONValue?, document: JSONValue) -> String {
        let members = sortedMembers(responses)
        guard !members.isEmpty else { return "" }
        var html = "<h4>Responses</h4>\n<dl class=\"responses\">\n"
        for (status, raw) in members {
            let response = resolve(raw, in: document)
            let description =
                response["description"]?.stringValue.map { " <span class=\"desc\">\(escape($0))</span>" } ?? ""
            let statusClass = "status s" + escape(String(status.prefix(1)))
            html += "<dt><span class=\"\(statusClass)\">\(escape(status))</span>\(description)</dt>\n"
            html += "<dd>\(contentBlock(response["content"]))</dd>\n"
        }
        return html + "</dl>\n"
    }

    private static func schemasSection(_ document: JSONValue) -> String {
        let schemas = sortedMembers(document["components"]?["schemas"])
        guard !schemas.isEmpty else { return "" }
        var html = "<section id=\"schemas\"><h2>Schemas</h2>\n"
        for (name, schema) in schemas {
            html += "<article class=\"schema\" id=\"\(escape(schemaAnchor(name)))\">\n<h3>\(escape(name))</h3>\n"
            html += "<p>\(typeLabel(schema))</p>\n" + descriptionBlock(schema["description"])
            html += fields(of: schema, depth: 0) + "</article>\n"
        }
        return html + "</section>\n"
    }

    // MARK: - Fragments

    private static func contentBlock(_ content: JSONValue?) -> String {
        sortedMembers(content).map { mediaType, media in
            let schema = media["schema"].map { " " + typeLabel($0) + fields(of: $0, depth: 0) } ?? ""
            return "<div class=\"media\"><code>\(escape(mediaType))</code>\(schema)</div>\n"
        }.joined()
    }

    /// Nested list of an inline schema's properties and composed alternatives; `$ref`s stay links, so cycles end.
    private static func fields(of schema: JSONValue, depth: Int) -> String {
        guard depth < 5, schema["$ref"] == nil else { return "" }
        var html = ""
        let required = Set(schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        let properties = sortedMembers(schema["properties"])
        if !properties.isEmpty {
            html += "<ul class=\"fields\">\n"
            for (name, property) in properties {
                let marker = required.contains(name) ? " " + requiredMarker : ""
                let description =
                    property["description"]?.stringValue.map { " <span class=\"desc\">&mdash; \(escape($0))</span>" }
                    ?? ""
                html += "<li><code>\(escape(name))</code>\(marker) \(typeLabel(property))\(description)"
                html += fields(of: property, depth: depth + 1) + "</li>\n"
            }
            html += "</ul>\n"
        }
        if let items = schema["items"] { html += fields(of: items, depth: depth + 1) }
        if let additional = schema["additionalProperties"] { html += fields(of: additional, depth: depth + 1) }
        for key in compositionKeys {
            for (index, alternative) in (schema[key]?.arrayValue ?? []).enumerated() {
                let inner = fields(of: alternative, depth: depth + 1)
                if !inner.isEmpty { html += "<div class=\"alt\">\(key) option \(index + 1)</div>\n" + inner }
            }
        }
        return html
    }

    /// One-line HTML summary of a schema: type(s), format, item type, composition, enum values.
    private static func typeLabel(_ schema: JSONValue) -> String {
        if let ref = schema["$ref"]?.stringValue { return refLink(ref) }
        var parts: [String] = []
        // OpenAPI 3.1 allows `type` to be a list, e.g. ["string", "null"].
        let types =
            schema["type"]?.stringValue.map { [$0] } ?? schema["type"]?.arrayValue?.compactMap(\.stringValue) ?? []
        var label = types.map { type in
            type == "array" ? "array of " + (schema["items"].map(typeLabel) ?? "any") : escape(type)
        }.joined(separator: " | ")
        if label.isEmpty, schema["properties"] != nil { label = "object" }
        if let format = schema["format"]?.stringValue { label += " (\(escape(format)))" }
        if !label.isEmpty { parts.append(label) }
        if let additional = schema["additionalProperties"], additional.objectValue != nil {
            parts.append("map of " + typeLabel(additional))
        }
        for key in compositionKeys {
            if let alternatives = schema[key]?.arrayValue {
                let separator = key == "allOf" ? " &amp; " : " | "
                parts.append("\(key): " + alternatives.map(typeLabel).joined(separator: separator))
            }
        }
        if let values = schema["enum"]?.arrayValue {
            parts.append("enum: " + values.map { "<code>\(escape(literal($0)))</code>" }.joined(separator: ", "))
        }
        if let constant = schema["const"] { parts.append("const: <code>\(escape(literal(constant)))</code>") }
        return "<span class=\"type\">\(parts.isEmpty ? "any" : parts.joined(separator: "; "))</span>"
    }

    private static func refLink(_ ref: String) -> String {
        guard ref.hasPrefix(schemaRefPrefix) else { return "<code>\(escape(ref))</code>" }
        let name = unescapePointer(String(ref.dropFirst(schemaRefPrefix.count)))
        return "<a class=\"ref\" href=\"#\(escape(schemaAnchor(name)))\">\(escape(name))</a>"
    }

    private static func requirementsText(_ requirements: [JSONValue]) -> String {
        // An empty requirement object (or an empty list) means the operation may be called anonymously.
        let alternatives = requirements.map { requirement -> String in
            let members = sortedMembers(requirement)
            guard !members.isEmpty else { return "none" }
            return members.map { name, scopes in
                let scopeList = scopes.arrayValue?.compactMap(\.stringValue) ?? []
                let suffix = scopeList.isEmpty ? "" : " (\(escape(scopeList.joined(separator: ", "))))"
                return "<code>\(escape(name))</code>\(suffix)"
            }.joined(separator: " + ")
        }
        return alternatives.isEmpty ? "none" : alternatives.joined(separator: " or ")
    }

    private static func badge(_ method: String) -> String {
        "<span class=\"method m-\(method)\">\(method.uppercased())</span>"
    }

    private static func table(_ headings: [String], _ rows: [[String]]) -> String {
        let head = headings.map { "<th>\($0)</th>" }.joined()
        let body = rows.map { "<tr>" + $0.map { "<td>\($0)</td>" }.joined() + "</tr>\n" }.joined()
        return "<table>\n<thead><tr>\(head)</tr></thead>\n<tbody>\n\(body)</tbody>\n</table>\n"
    }

    /// The escaped string payload of `value`, or nothing.
    private static func text(_ value: JSONValue?) -> String { escape(value?.stringValue ?? "") }

    private static func descriptionBlock(_ value: JSONValue?) -> String {
        guard let text = value?.stringValue, !text.isEmpty else { return "" }
        return "<div class=\"desc\">\(escape(text))</div>\n"
    }

    // MARK: - Document helpers

    private static func collectOperations(in document: JSONValue) -> [Operation] {
        sortedMembers(document["paths"]).flatMap { path, rawItem in
            let item = resolve(rawItem, in: document)
            return methods.compactMap { method -> Operation? in
                guard let spec = item[method], spec.objectValue != nil else { return nil }
                let anchor = anchorID(spec["operationId"]?.stringValue ?? "\(method)-\(path)")
                let tags = spec["tags"]?.arrayValue?.compactMap(\.stringValue) ?? []
                let inherited = item["parameters"]?.arrayValue ?? []
                return Operation(
                    method: method, path: path, anchor: anchor, tags: tags, spec: spec, inheritedParameters: inherited)
            }
        }
    }

    /// Path-level parameters followed by the operation's own; the operation's win on the same name and location.
    private static func parameters(of operation: Operation, document: JSONValue) -> [JSONValue] {
        func key(_ parameter: JSONValue) -> String {
            "\(parameter["in"]?.stringValue ?? "")/\(parameter["name"]?.stringValue ?? "")"
        }
        let own = (operation.spec["parameters"]?.arrayValue ?? []).map { resolve($0, in: document) }
        let ownKeys = Set(own.map(key))
        let inherited = operation.inheritedParameters.map { resolve($0, in: document) }.filter {
            !ownKeys.contains(key($0))
        }
        return inherited + own
    }

    /// Follows local `$ref` pointers; gives up after a few hops so a reference cycle cannot hang rendering.
    private static func resolve(_ value: JSONValue, in document: JSONValue) -> JSONValue {
        var current = value
        for _ in 0..<8 {
            guard let ref = current["$ref"]?.stringValue, ref.hasPrefix("#/") else { return current }
            var target: JSONValue? = document
            for token in ref.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false) {
                target = target?[unescapePointer(String(token))]
            }
            guard let target else { return current }
            current = target
        }
        return current
    }

    private static func sortedMembers(_ value: JSONValue?) -> [(key: String, value: JSONValue)] {
        (value?.objectValue ?? [:]).sorted { $0.key < $1.key }
    }

    private static func unescapePointer(_ token: String) -> String {
        token.replacing("~1", with: "/").replacing("~0", with: "~")
    }

    private static func schemaAnchor(_ name: String) -> String { "schema-" + name }

    /// Keeps ASCII letters, digits, `_` and `.`; every other run of characters becomes one `-`.
    private static func anchorID(_ text: String) -> String {
        let words = text.split { !($0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ".")) }
        return words.isEmpty ? "operation" : words.joined(separator: "-")
    }

    private static func literal(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .int(let number): String(number)
        case .double(let number): String(number)
        case .string(let text): text
        case .array, .object: "…"
        }
    }

    private static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static let stylesheet = """
        body{margin:0;font:15px/1.5 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2328}
        main{max-width:980px;margin:0 auto;padding:24px}
        a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}
        code{font:13px ui-monospace,Menlo,Consolas,monospace;background:#f3f4f6;padding:1px 4px;border-radius:4px}
        h2{border-bottom:2px solid #d0d7de;padding-bottom:4px;margin-top:40px}h4{margin:16px 0 6px}
        .meta,.alt,.type{color:#57606a}.meta,.alt{font-size:13px}.alt{font-style:italic}.summary{font-weight:600}
        .desc{white-space:pre-line}div.desc{margin:6px 0}nav ul{list-style:none;padding-left:8px}nav li{margin:3px 0}
        .operation,.schema{border:1px solid #d0d7de;border-radius:8px;padding:8px 16px 12px;margin:16px 0}
        .operation h3 code.path{font-size:15px;background:none}
        .method{display:inline-block;min-width:56px;text-align:center;border-radius:4px;padding:1px 6px;color:#fff;\
        background:#6e7781;font:bold 12px ui-monospace,Menlo,Consolas,monospace}
        .m-get{background:#0969da}.m-post{background:#1a7f37}.m-put{background:#9a6700}.m-patch{background:#8250df}
        .m-delete{background:#cf222e}table{border-collapse:collapse;width:100%;font-size:14px}
        th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f6f8fa}
        ul.fields{list-style:none;padding-left:0;margin:4px 0}ul.fields li{margin:3px 0}
        ul.fields ul.fields,.alt+ul.fields{margin-left:6px;padding-left:14px;border-left:2px solid #d0d7de}
        .required,.deprecated{color:#cf222e;font-size:12px;font-weight:600}.media{margin:4px 0}
        .responses dt{margin-top:8px}.responses dd{margin-left:24px}
        .status{font-family:ui-monospace,Menlo,monospace;font-weight:bold}
        .s2{color:#1a7f37}.s3{color:#9a6700}.s4,.s5{color:#cf222e}
        """
}
