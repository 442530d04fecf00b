import AgentplaneCore
import AgentplaneStore
import Foundation

/// The tools every tenant has without registering anything (DESIGN §6).
public enum BuiltInTools {
    /// Their names, as a step's `uses` writes them.
    public static let names: Set<String> = ["http.request", "events.publish", "kb.search", "llm.chat", "log", "sleep"]
}

extension UseCases {
    /// Field errors of a task's payload: the pipeline's structure and references, then each step's tool
    /// (a built-in, or one the tenant's tool check knows), pointing at the step.
    func pipelineErrors(_ payload: [String: JSONValue], tenant: TenantID) async -> [FieldError] {
        let pipeline: Pipeline
        do {
            pipeline = try Pipeline.parse(payload: .object(payload))
        } catch {
            return error.fieldErrors
        }
        var errors: [FieldError] = []
        var foreign: [(index: Int, step: PipelineStep)] = []
        for (index, step) in pipeline.steps.enumerated() where !BuiltInTools.names.contains(step.uses) {
            foreign.append((index, step))
        }
        if !foreign.isEmpty {
            errors += await taskSettings.toolCheck(foreign.map(\.step), foreign.map(\.index), tenant)
        }
        return errors
    }
}
