// `runs-bench rescue postgres LEASE_SECONDS SAMPLES`: the time from `kill -9` of a worker process that
// holds a run to that run starting again on another worker (issue #8 item 10). Each sample enqueues a
// run, starts `runs-bench hold …` as a child process whose worker claims it and never finishes, kills
// the child with SIGKILL once it says it holds the run, then starts a worker in this process and
// measures until the run's handler starts here. Expected: the lease, plus at most one rescue sweep.
import AgentplaneCore
import AgentplaneEngine
import AgentplaneStore
import Foundation
import Logging
import ServiceLifecycle

/// The child: a worker whose `bench.hold` handler prints `held` and then never returns.
func holdRuns(store: any Store, leaseSeconds: Int, logger: Logger) async throws -> Never {
    let worker = RunWorker(
        store: store,
        handlers: [
            "bench.hold": { _ in
                FileHandle.standardOutput.write(Data("held\n".utf8))
                while true { try? await Task.sleep(for: .seconds(3600)) }
            }
        ],
        settings: RunWorkerSettings(workerID: "holder-\(getpid())", concurrency: 1, lease: .seconds(leaseSeconds)),
        logger: logger)
    try await ServiceGroup(configuration: .init(services: [.init(service: worker)], logger: logger)).run()
    fatalError("the holding worker stopped")
}

func rescueBenchmark(
    store: any Store, backend: String, location: String, leaseSeconds: Int, samples: Int, logger: Logger
) async throws {
    let tenant = TenantID(UUIDv7.make())
    var times: [Duration] = []
    for _ in 0..<samples {
        let run = NewRun(kind: "bench.hold", tenantID: tenant, runAt: .now(), createdAt: .now())
        _ = try await store.runs.enqueue([run])
        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        child.arguments = ["hold", backend, location, String(leaseSeconds)]
        let output = Pipe()
        child.standardOutput = output
        try child.run()
        // Blocks until the child's worker has claimed the run and its handler started.
        var seen = Data()
        while !String(decoding: seen, as: UTF8.self).contains("held") {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { fatalError("the holding worker exited before it held the run") }
            seen.append(chunk)
        }
        kill(child.processIdentifier, SIGKILL)
        let killed = ContinuousClock.now
        child.waitUntilExit()
        let started = RunWakeup()
        let rescuer = RunWorker(
            store: store,
            handlers: [
                "bench.hold": { context in
                    if context.run.id == run.id { started.signal() }
                    return .null
                }
            ],
            settings: RunWorkerSettings(workerID: "rescuer", concurrency: 1, lease: .seconds(leaseSeconds)),
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: rescuer)], logger: logger))
        let task = Task { try await group.run() }
        await started.wait(timeout: .seconds(leaseSeconds * 3 + 30))
        times.append(ContinuousClock.now - killed)
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
    let seconds = times.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 }
    print(
        String(
            format:
                "| %@ | lease %d s, rescue sweep every 5 s | kill -9 → started again: min %.2f s, median %.2f s, max %.2f s (%d kills) |",
            backend, leaseSeconds, seconds.min() ?? .nan, seconds.sorted()[seconds.count / 2], seconds.max() ?? .nan,
            seconds.count))
}
