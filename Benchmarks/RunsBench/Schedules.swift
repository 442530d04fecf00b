// Issue #9 item 9, the scheduler and pipelines:
//   runs-bench schedule-latency BACKEND SAMPLES   once tasks due one at a time: due → handler started, p50/p99/max
//   runs-bench cron-load BACKEND TASKS MINUTES     TASKS `* * * * *` tasks for MINUTES minutes: fires per minute,
//                                                  duplicates, misses, and how late each minute's burst was enqueued
//                                                  and started (CronLoad.swift)
//   runs-bench pipeline BACKEND STEPS RUNS         a pipeline of STEPS built-in `log` steps (each rendering the
//                                                  previous one's output): time per step, runner only and with the
//                                                  step logs written
import AgentplaneApp
import AgentplaneCore
import AgentplaneEngine
import AgentplaneServer
import AgentplaneStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// What the benchmark's `task.run` handler saw: per run, its scheduled time and when it started.
final class FireLog: Sendable {
    let starts = Mutex<[(scheduled: Timestamp, started: Timestamp, task: String)]>([])
    let started = RunWakeup()

    func record(_ run: Run) {
        let now = Timestamp.now()
        guard let text = run.request.arguments["scheduled_at"]?.stringValue, let scheduled = Timestamp(rfc3339: text)
        else { return }
        starts.withLock { $0.append((scheduled, now, run.request.taskID?.lowercasedString ?? "")) }
        started.signal()
    }
}

func milliseconds(_ micros: Int64) -> Duration { .microseconds(micros) }

func scheduleServices(
    _ store: any Store, log: FireLog, logger: Logger, concurrency: Int = 64, wakeup: RunWakeup = RunWakeup()
) -> (TaskScheduler, RunWorker) {
    let scheduler = TaskScheduler(store: store, clock: SystemWallClock(), wakeup: wakeup, logger: logger)
    let worker = RunWorker(
        store: store,
        handlers: [
            AgentTask.runKind: { context in
                log.record(context.run)
                return .null
            }
        ],
        settings: RunWorkerSettings(workerID: "bench-\(UUIDv7.make())", concurrency: concurrency), logger: logger)
    return (scheduler, worker)
}

func benchTenant(_ store: any Store, tasks: Int) async throws -> TenantID {
    let now = Timestamp.now()
    let tenant = Tenant(
        id: TenantID(UUIDv7.make()), slug: "bench-\(UUIDv7.make().lowercasedString.suffix(12))", name: "bench",
        status: .active,
        quotas: TenantQuotas(maxInstances: 10, maxTasks: tasks + 10, maxKnowledgeBaseEntries: 10, requestsPerMinute: 0),
        version: 1, createdAt: now, updatedAt: now)
    try await store.tenants.create(
        tenant,
        record: ChangeRecord(
            events: [],
            audit: AuditEntry(
                id: UUIDv7.make(), tenantID: tenant.id, occurredAt: now, principalID: "bench", keyPrefix: nil,
                operation: "bench", resourceType: "tenant", resourceID: nil, requestID: nil, clientAddress: nil,
                outcome: .success, status: 201, details: [:])))
    return tenant.id
}

func createBenchTask(_ store: any Store, tenant: TenantID, kind: String, expression: String, steps: Int = 1)
    async throws -> AgentTask
{
    let pipeline = (0..<steps).map { index -> JSONValue in
        let message: JSONValue = index == 0 ? "start" : .string("after ${steps.s\(index - 1).logged}")
        return ["id": .string("s\(index)"), "uses": "log", "with": ["message": message]]
    }
    let fields = TaskFields(
        title: "bench", scheduleKind: kind, scheduleExpr: expression, timezone: "UTC",
        payload: ["pipeline": .array(pipeline)])
    let now = Timestamp.now()
    let (task, events) = try TaskDecisions.create(
        fields, tenant: tenant,
        context: TaskContext(caller: "bench", events: EventContext(), now: now, defaultTimezone: "UTC"))
    try await store.tasks.create(
        task,
        record: ChangeRecord(
            events: events,
            audit: AuditEntry(
                id: UUIDv7.make(), tenantID: tenant, occurredAt: now, principalID: "bench", keyPrefix: nil,
                operation: "bench", resourceType: "task", resourceID: nil, requestID: nil, clientAddress: nil,
                outcome: .success, status: 201, details: [:])))
    return task
}

func runServices(_ services: [any Service], logger: Logger, _ body: () async throws -> Void) async throws {
    let group = ServiceGroup(
        configuration: ServiceGroupConfiguration(services: services.map { .init(service: $0) }, logger: logger))
    let task = Task { try await group.run() }
    try await body()
    await group.triggerGracefulShutdown()
    _ = try? await task.value
}

func scheduleLatencyBenchmark(store: any Store, backend: String, samples: Int, logger: Logger) async throws {
    let log = FireLog()
    // As the API does: a task's creation wakes the scheduler, which then sleeps until the task is due.
    let wakeup = RunWakeup()
    let (scheduler, worker) = scheduleServices(store, log: log, logger: logger, concurrency: 8, wakeup: wakeup)
    let tenant = try await benchTenant(store, tasks: samples)
    try await runServices([scheduler, worker], logger: logger) {
        try await Task.sleep(for: .milliseconds(500))
        for index in 0..<samples {
            // Due a little ahead, at an instant that is not a whole second.
            let due = Timestamp.now().adding(seconds: 0).microsecondsSinceEpoch + 150_000 + Int64(index % 7) * 13_000
            _ = try await createBenchTask(
                store, tenant: tenant, kind: "once",
                expression: Timestamp(microsecondsSinceEpoch: due).rfc3339)
            wakeup.signal()
            let deadline = ContinuousClock.now + .seconds(10)
            while log.starts.withLock({ $0.count }) <= index, ContinuousClock.now < deadline {
                await log.started.wait(timeout: .milliseconds(100))
            }
        }
    }
    let latencies = log.starts.withLock { $0 }.map {
        milliseconds($0.started.microsecondsSinceEpoch - $0.scheduled.microsecondsSinceEpoch)
    }
    print(
        String(
            format: "| %@ | schedule due → started, idle | %d samples | p50 %.2f ms | p99 %.2f ms | max %.2f ms |",
            backend, latencies.count, percentile(latencies, 0.5), percentile(latencies, 0.99),
            percentile(latencies, 1.0)))
}

func pipelineBenchmark(store: any Store, useCases: UseCases, backend: String, steps: Int, runs: Int, logger: Logger)
    async throws
{
    let tenant = try await benchTenant(store, tasks: 1)
    let task = try await createBenchTask(store, tenant: tenant, kind: "cron", expression: "0 0 1 1 *", steps: steps)
    var quiet = logger
    quiet.logLevel = .error
    let tools = BuiltInToolbox(useCases: useCases, outbound: OutboundPolicy())
    let runner = PipelineRunner(tools: tools, clock: SystemWallClock())
    let pipeline = try Pipeline.parse(payload: .object(task.payload))
    let call = ToolCallContext(
        tenant: tenant, taskID: task.id, runID: UUIDv7.make(), instanceID: nil, timeout: .seconds(10), logger: quiet)
    let started = ContinuousClock.now
    for _ in 0..<runs {
        let outcome = await runner.run(pipeline, context: RenderContext(), call: call, attempt: 1)
        precondition(outcome.failure == nil)
    }
    let runnerOnly = (ContinuousClock.now - started) / .microseconds(1) / Double(runs * steps)
    let withLogs = ContinuousClock.now
    for index in 0..<runs {
        let outcome = await runner.run(pipeline, context: RenderContext(), call: call, attempt: 1)
        try await store.runs.recordSteps(tenant: tenant, run: call.runID, attempt: index + 1, outcome.logs)
    }
    let logged = (ContinuousClock.now - withLogs) / .microseconds(1) / Double(runs * steps)
    print(
        String(
            format:
                "| %@ | pipeline of %d `log` steps × %d runs | %.1f µs/step (runner) | %.1f µs/step (with step logs stored) |",
            backend, steps, runs, runnerOnly, logged))
}
