import Foundation

/// One question for both the engine and the Python oracles (`scripts/schedule-oracle.py`).
struct OracleQuestion: Codable, Sendable {
    var kind: String
    var expr: String
    var tz: String
    /// Epoch microseconds.
    var start: Int64
    /// Epoch microseconds.
    var after: Int64
    var count: Int
}

/// The oracle's answer to one question: fire times (epoch microseconds) or the reason it refused.
struct OracleAnswer: Codable, Sendable {
    var times: [Int64]?
    var error: String?
}

/// Runs `scripts/schedule-oracle.py` once over a batch of questions.
enum Oracle {
    static let pythonVariable = "AGENTPLANE_ORACLE_PYTHON"
    static let requireVariable = "AGENTPLANE_TEST_REQUIRE_ORACLES"

    /// The package root, found from this file's path.
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `$AGENTPLANE_ORACLE_PYTHON`, else `.venv-oracles/bin/python` when it exists, else nil.
    static var python: String? {
        if let configured = ProcessInfo.processInfo.environment[pythonVariable], !configured.isEmpty {
            return configured
        }
        let venv = packageRoot.appendingPathComponent(".venv-oracles/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
    }

    /// Whether a missing oracle fails the test instead of skipping it.
    static var isRequired: Bool { ProcessInfo.processInfo.environment[requireVariable] == "1" }

    /// Whether the differential test runs: an interpreter is there, or its absence must fail.
    static var shouldRun: Bool { python != nil || isRequired }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Answers every question with one oracle process (stdin and stdout are files: no pipe can fill up).
    static func answers(_ questions: [OracleQuestion]) throws -> [OracleAnswer] {
        guard let python else {
            throw Failure(
                description: "no oracle Python: set \(pythonVariable) or run scripts/install-oracles "
                    + "(\(requireVariable)=1 makes this a failure)")
        }
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw Failure(description: "the oracle's Python \(python) is not an executable file")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("schedule-oracle-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("questions.jsonl")
        let output = directory.appendingPathComponent("answers.jsonl")
        let errors = directory.appendingPathComponent("stderr.txt")
        let encoder = JSONEncoder()
        var lines = Data()
        for question in questions {
            lines.append(try encoder.encode(question))
            lines.append(0x0A)
        }
        try lines.write(to: input)
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [packageRoot.appendingPathComponent("scripts/schedule-oracle.py").path]
        process.standardInput = try FileHandle(forReadingFrom: input)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let stderr = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
            throw Failure(description: "the oracle (\(python)) exited with \(process.terminationStatus): \(stderr)")
        }
        let decoder = JSONDecoder()
        let answers = try String(contentsOf: output, encoding: .utf8).split(separator: "\n").map {
            try decoder.decode(OracleAnswer.self, from: Data($0.utf8))
        }
        guard answers.count == questions.count else {
            throw Failure(description: "the oracle answered \(answers.count) of \(questions.count) questions")
        }
        return answers
    }
}
