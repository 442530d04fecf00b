/// Checks a step's references at save time: templates parse, and `steps.X` names an earlier step.
struct ReferenceChecker {
    /// The roots an `if` condition may read (secrets and environment variables are for `with` only).
    static let conditionRoots: Set<TemplateReference.Root> = [.steps, .event, .task, .instance, .input]

    /// How messages name the step, e.g. `step 'notify'`.
    let label: String
    /// The step's position in the pipeline.
    let index: Int
    /// Every step name (id or save_as) with the index of the step that declares it.
    let names: [String: Int]

    /// Appends an error for every string in `value` (recursively, keys excluded) that does not parse as a
    /// template or refers to a step that does not run before this one.
    func checkTemplates(in value: JSONValue, pointer: String, errors: inout [FieldError]) {
        switch value {
        case .string(let text) where Template.mayContainReferences(text):
            do {
                for reference in try Template.parse(text).references {
                    guard let step = reference.stepName else { continue }
                    if let problem = problem(step: step, shown: "${\(reference)}") {
                        errors.append(FieldError(pointer: pointer, message: problem))
                    }
                }
            } catch {
                errors.append(FieldError(pointer: pointer, message: error.description))
            }
        case .array(let elements):
            for (position, element) in elements.enumerated() {
                checkTemplates(in: element, pointer: "\(pointer)/\(position)", errors: &errors)
            }
        case .object(let members):
            for key in members.keys.sorted() {
                let member = members[key]!
                checkTemplates(in: member, pointer: pointer + "/" + PipelineStep.escape(key), errors: &errors)
            }
        default:
            break
        }
    }

    /// Parses an `if` and checks its paths: each starts at `steps`, `event`, `task` or `instance`, and a
    /// `steps.X` path names an earlier step. Nil (with errors appended) when it is refused.
    func condition(_ value: JSONValue, pointer: String, errors: inout [FieldError]) -> ConditionExpression? {
        guard case .string(let text) = value else {
            errors.append(FieldError(pointer: pointer, message: "must be a condition expression string"))
            return nil
        }
        let expression: ConditionExpression
        do {
            expression = try ConditionExpression.parse(text)
        } catch {
            errors.append(FieldError(pointer: pointer, message: error.description))
            return nil
        }
        let before = errors.count
        for path in expression.paths {
            let shown = path.joined(separator: ".")
            guard let root = TemplateReference.Root(rawValue: path[0]), Self.conditionRoots.contains(root) else {
                let message = "the path '\(shown)' must start with steps, event, task or instance"
                errors.append(FieldError(pointer: pointer, message: message))
                continue
            }
            if let problem = TemplateReference.shapeProblem(root: root, path: Array(path.dropFirst())) {
                errors.append(FieldError(pointer: pointer, message: "the path '\(shown)' \(problem)"))
            } else if root == .steps, let problem = problem(step: path[1], shown: "'\(shown)'") {
                errors.append(FieldError(pointer: pointer, message: problem))
            }
        }
        return errors.count == before ? expression : nil
    }

    /// Why `steps.<step>` may not be read from this step, or nil when it runs earlier.
    private func problem(step: String, shown: String) -> String? {
        guard let declaring = names[step] else { return "\(label) refers to unknown step '\(step)' in \(shown)" }
        if declaring == index {
            return "\(label) refers to itself in \(shown): a step can only read earlier steps"
        }
        if declaring > index {
            return "\(label) refers to step '\(step)', which runs after it, in \(shown)"
        }
        return nil
    }
}
