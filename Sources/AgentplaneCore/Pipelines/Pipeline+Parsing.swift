extension Pipeline {
    /// Parses and validates a task payload `{"pipeline": [steps]}`, reporting every invalid field found.
    ///
    /// Besides each step's own fields (see `PipelineStep.parse`), ids must be unique, a `save_as` must not
    /// equal another step's id or save_as, and every `${steps.X…}` in a step's `with` and every `steps.X` path
    /// in its `if` must name an earlier step.
    public static func parse(payload: JSONValue, pointer: String = "/payload") throws(PipelineError) -> Pipeline {
        guard case .object(let members) = payload else {
            throw PipelineError([FieldError(pointer: pointer, message: "must be an object with a `pipeline` list")])
        }
        let listPointer = pointer + "/pipeline"
        guard let list = members["pipeline"] else {
            throw PipelineError([FieldError(pointer: listPointer, message: "is required: a list of steps")])
        }
        guard case .array(let items) = list, (1...maximumStepCount).contains(items.count) else {
            throw PipelineError([
                FieldError(pointer: listPointer, message: "must be a list of 1 to \(maximumStepCount) steps")
            ])
        }
        var errors: [FieldError] = []
        let names = StepNames(items, pointer: listPointer, errors: &errors)
        var steps: [PipelineStep] = []
        for (index, item) in items.enumerated() {
            let context = PipelineStep.ParseContext(index: index, names: names.table)
            let step = PipelineStep.parse(item, pointer: "\(listPointer)/\(index)", context: context, errors: &errors)
            if let step { steps.append(step) }
        }
        guard errors.isEmpty else { throw PipelineError(errors) }
        return Pipeline(steps: steps)
    }
}

/// The names (ids and save_as) the steps declare, each with the index of the step declaring it first.
private struct StepNames {
    var table: [String: Int] = [:]

    init(_ items: [JSONValue], pointer: String, errors: inout [FieldError]) {
        for (index, item) in items.enumerated() {
            guard let id = item["id"]?.stringValue, PipelineStep.isValidName(id) else { continue }
            if let first = table[id] {
                errors.append(
                    FieldError(pointer: "\(pointer)/\(index)/id", message: "'\(id)' is already the id of step \(first)")
                )
            } else {
                table[id] = index
            }
        }
        for (index, item) in items.enumerated() {
            guard let name = item["save_as"]?.stringValue, PipelineStep.isValidName(name) else { continue }
            if let owner = table[name], owner != index {
                let message = "'\(name)' is already a name of step \(owner): save_as must not repeat an id or save_as"
                errors.append(FieldError(pointer: "\(pointer)/\(index)/save_as", message: message))
            } else {
                table[name] = index
            }
        }
    }
}

extension PipelineStep {
    /// The keys a step may have.
    public static let keys: Set<String> = ["id", "uses", "with", "save_as", "if", "timeout_seconds", "retry"]

    /// Where a step sits among the others, for checking its references.
    struct ParseContext {
        /// The step's position in the pipeline.
        var index: Int
        /// Every step name (id or save_as) with the index of the step that declares it.
        var names: [String: Int]
        /// The id to use when the step has none (a condition task's `source`), or nil to require one.
        var defaultID: String?
    }

    /// Parses one step on its own (e.g. a condition task's `source`): any `${steps.…}` reference is refused,
    /// as there are no earlier steps. `defaultID` is used when the step has no `id`.
    public static func parse(_ value: JSONValue, pointer: String, defaultID: String? = nil) throws(PipelineError)
        -> PipelineStep
    {
        var errors: [FieldError] = []
        let context = ParseContext(index: 0, names: [:], defaultID: defaultID)
        let step = parse(value, pointer: pointer, context: context, errors: &errors)
        guard let step, errors.isEmpty else { throw PipelineError(errors) }
        return step
    }

    /// Parses one step, appending every problem to `errors`; nil when any field is invalid.
    static func parse(_ value: JSONValue, pointer: String, context: ParseContext, errors: inout [FieldError])
        -> PipelineStep?
    {
        guard case .object(let members) = value else {
            errors.append(FieldError(pointer: pointer, message: "must be an object with id and uses"))
            return nil
        }
        let before = errors.count
        for key in members.keys.sorted() where !keys.contains(key) {
            let known = "id, uses, with, save_as, if, timeout_seconds, retry"
            errors.append(
                FieldError(pointer: pointer + "/" + escape(key), message: "unknown key '\(key)' (use \(known))"))
        }
        let id = name(members["id"], pointer: pointer + "/id", default: context.defaultID, errors: &errors)
        let saveAs = members["save_as"].flatMap { name($0, pointer: pointer + "/save_as", errors: &errors) }
        let uses = self.uses(members["uses"], pointer: pointer + "/uses", errors: &errors)
        let label = id.map { "step '\($0)'" } ?? "step \(context.index)"
        let checker = ReferenceChecker(label: label, index: context.index, names: context.names)
        var with: [String: JSONValue] = [:]
        switch members["with"] {
        case nil, .null: break
        case .object(let arguments):
            with = arguments
            checker.checkTemplates(in: .object(arguments), pointer: pointer + "/with", errors: &errors)
        default: errors.append(FieldError(pointer: pointer + "/with", message: "must be an object of arguments"))
        }
        let condition = members["if"].flatMap { checker.condition($0, pointer: pointer + "/if", errors: &errors) }
        let timeout = members["timeout_seconds"].flatMap { timeoutSeconds($0, pointer: pointer, errors: &errors) }
        let retry = members["retry"].flatMap { StepRetry.parse($0, pointer: pointer + "/retry", errors: &errors) }
        guard errors.count == before, let id, let uses else { return nil }
        return PipelineStep(
            id: id, uses: uses, with: with, saveAs: saveAs, condition: condition, timeoutSeconds: timeout,
            retry: retry)
    }

    /// Whether a string is a valid step id or save_as: 1–64 characters of `[A-Za-z0-9_-]`.
    public static func isValidName(_ name: String) -> Bool {
        (1...maximumNameLength).contains(name.utf8.count)
            && name.utf8.allSatisfy { isNameByte($0) }
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default: false
        }
    }

    private static func name(
        _ value: JSONValue?, pointer: String, default fallback: String? = nil, errors: inout [FieldError]
    ) -> String? {
        guard let value else {
            if fallback == nil { errors.append(FieldError(pointer: pointer, message: "is required")) }
            return fallback
        }
        guard case .string(let name) = value, isValidName(name) else {
            let message = "must be 1 to \(maximumNameLength) characters of A-Z, a-z, 0-9, _ and -"
            errors.append(FieldError(pointer: pointer, message: message))
            return nil
        }
        return name
    }

    /// `<server>.<tool>` split at the first `.`: the server 1–64 characters of `[A-Za-z0-9_-]`, the tool 1–128
    /// of `[A-Za-z0-9_./-]` (MCP tool names may hold dots); or a bare built-in name such as `log`.
    private static func uses(_ value: JSONValue?, pointer: String, errors: inout [FieldError]) -> String? {
        guard let value else {
            errors.append(FieldError(pointer: pointer, message: "is required, e.g. 'http.request'"))
            return nil
        }
        let message =
            "must be '<server>.<tool>' (server 1-64 characters of A-Z, a-z, 0-9, _ and -; tool 1-128 of those, "
            + "/ and .) or a built-in such as 'log', e.g. 'http.request'"
        guard case .string(let uses) = value else {
            errors.append(FieldError(pointer: pointer, message: message))
            return nil
        }
        let bytes = uses.utf8
        guard let dot = bytes.firstIndex(of: UInt8(ascii: ".")) else {
            guard (1...64).contains(bytes.count), bytes.allSatisfy(isNameByte) else {
                errors.append(FieldError(pointer: pointer, message: message))
                return nil
            }
            return uses
        }
        let server = bytes[..<dot]
        let tool = bytes[bytes.index(after: dot)...]
        guard (1...64).contains(server.count), server.allSatisfy(isNameByte), (1...128).contains(tool.count),
            tool.allSatisfy({ isNameByte($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "/") })
        else {
            errors.append(FieldError(pointer: pointer, message: message))
            return nil
        }
        return uses
    }

    private static func timeoutSeconds(_ value: JSONValue, pointer: String, errors: inout [FieldError]) -> Double? {
        guard let seconds = value.numberValue, seconds > 0, seconds <= maximumTimeoutSeconds else {
            let message = "must be a number of seconds above 0 and at most \(Int(maximumTimeoutSeconds))"
            errors.append(FieldError(pointer: pointer + "/timeout_seconds", message: message))
            return nil
        }
        return seconds
    }

    /// A JSON pointer segment: `~` as `~0`, `/` as `~1` (RFC 6901).
    static func escape(_ key: String) -> String {
        key.replacing("~", with: "~0").replacing("/", with: "~1")
    }
}

extension StepRetry {
    static func parse(_ value: JSONValue, pointer: String, errors: inout [FieldError]) -> StepRetry? {
        guard case .object(let members) = value else {
            errors.append(FieldError(pointer: pointer, message: "must be an object with max_attempts"))
            return nil
        }
        let before = errors.count
        for key in members.keys.sorted() where key != "max_attempts" && key != "delay_seconds" {
            let message = "unknown key '\(key)' (use max_attempts and delay_seconds)"
            errors.append(FieldError(pointer: pointer + "/" + PipelineStep.escape(key), message: message))
        }
        var attempts: Int?
        switch members["max_attempts"] {
        case nil:
            errors.append(FieldError(pointer: pointer + "/max_attempts", message: "is required"))
        case .some(let value):
            if let number = value.numberValue, number.rounded() == number,
                attemptRange.contains(Int(exactly: number) ?? 0)
            {
                attempts = Int(number)
            } else {
                let message = "must be a whole number from \(attemptRange.lowerBound) to \(attemptRange.upperBound)"
                errors.append(FieldError(pointer: pointer + "/max_attempts", message: message))
            }
        }
        var delay = 0.0
        if let value = members["delay_seconds"] {
            if let number = value.numberValue, delayRange.contains(number) {
                delay = number
            } else {
                let message = "must be a number of seconds from 0 to \(Int(delayRange.upperBound))"
                errors.append(FieldError(pointer: pointer + "/delay_seconds", message: message))
            }
        }
        guard errors.count == before, let attempts else { return nil }
        return StepRetry(maxAttempts: attempts, delaySeconds: delay)
    }
}
