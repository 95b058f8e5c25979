import FoundationEssentials
import Glibc
package import StellwerkAPI

/// Keeps the instances the agent recorded running between applies: a process that exits is started
/// again from its release after a back-off that doubles with each crash (1 s up to 1 min), and an
/// instance that keeps crashing is reported as crash-looping while the agent keeps trying at the
/// longest back-off.
package actor Supervisor {
    /// How an instance is doing, as the supervisor sees it.
    package struct Status: Sendable, Hashable {
        package var state: InstanceReport.State
        /// Restarts within the current crash window.
        package var restarts: Int
        package var lastExit: String?
        /// The last health probe's result.
        package var health: String?
        /// Config files changed behind the agent's back.
        package var drift: [String] = []
    }

    private struct Tracked {
        var restarts: [ContinuousClock.Instant] = []
        var nextAttempt: ContinuousClock.Instant?
        var nextProbe: ContinuousClock.Instant?
        var failedProbes = 0
        var status = Status(state: .running, restarts: 0, lastExit: nil)
    }

    private let state: AgentState
    private let address: String
    private let node: String
    private var tracked: [String: Tracked] = [:]
    private let clock = ContinuousClock()
    /// Restarts within `window` after which an instance counts as crash-looping (default 5 in 5 min).
    private let crashLoopRestarts: Int
    private let window: Duration
    private let maximumBackoff: Duration

    package init(
        state: AgentState, node: String, address: String, crashLoopRestarts: Int = 5, window: Duration = .seconds(300),
        maximumBackoff: Duration = .seconds(60)
    ) {
        self.state = state
        self.node = node
        self.address = address
        self.crashLoopRestarts = crashLoopRestarts
        self.window = window
        self.maximumBackoff = maximumBackoff
    }

    private func logFile(of instance: AgentState.Instance, service: String) -> URL {
        URL(fileURLWithPath: instance.folder).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("logs/\(service).log")
    }

    /// Probes a running instance when its interval has passed; more failures in a row than the
    /// blueprint's retries make it unhealthy, one success makes it running again.
    private func probe(_ instance: AgentState.Instance, entry: inout Tracked, now: ContinuousClock.Instant) async {
        let health = instance.spec.health
        if let next = entry.nextProbe, now < next {
            return
        }
        entry.nextProbe = now + .seconds(max(1, health.intervalSeconds))
        let result = await CheckHealth.probe(health, host: address, directory: URL(fileURLWithPath: instance.folder))
        entry.status.health = result.detail
        entry.failedProbes = result.healthy ? 0 : entry.failedProbes + 1
        if entry.restarts.count >= crashLoopRestarts {
            entry.status.state = .crashLooping
        } else {
            entry.status.state = entry.failedProbes > health.retries ? .unhealthy : .running
        }
    }

    /// The current status of each supervised instance, by service.
    package func statuses() -> [String: Status] {
        tracked.mapValues(\.status)
    }

    /// One round: notices exited processes and restarts those whose back-off has passed.
    package func check() async {
        guard let instances = try? state.instances() else { return }
        let now = clock.now
        for (service, instance) in instances {
            var entry = tracked[service] ?? Tracked()
            if let process = instance.process {
                StopProcess.reap(process)
                if process.isRunning {
                    entry.restarts.removeAll { now - $0 > window }
                    entry.status.restarts = entry.restarts.count
                    await probe(instance, entry: &entry, now: now)
                    entry.status.drift = Drift.files(of: instance)
                    LogRotation.rotateIfNeeded(logFile(of: instance, service: service))
                    tracked[service] = entry
                    continue
                }
            }
            // The process is gone: schedule a restart, or make it when its time has come.
            entry.restarts.removeAll { now - $0 > window }
            guard let due = entry.nextAttempt else {
                let exponent = min(entry.restarts.count, 6)
                let backoff = min(maximumBackoff, .seconds(1 << exponent))
                entry.nextAttempt = now + backoff
                entry.status.lastExit = "exited; restarting in \(backoff)"
                entry.status.state = entry.restarts.count >= crashLoopRestarts ? .crashLooping : .starting
                try? state.journal(service, "exited", "restart in \(backoff)")
                tracked[service] = entry
                continue
            }
            guard now >= due else {
                tracked[service] = entry
                continue
            }
            entry.nextAttempt = nil
            entry.restarts.append(now)
            entry.status.restarts = entry.restarts.count
            do {
                let process = try StartProcess.start(
                    instance.spec.artifact.executablePath(in: instance.folder),
                    arguments: instance.spec.arguments, directory: URL(fileURLWithPath: instance.folder),
                    environment: [
                        "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": instance.folder,
                        "STELLWERK_SERVICE": service, "STELLWERK_NODE": node,
                    ],
                    log: logFile(of: instance, service: service),
                    user: getuid() == 0 ? instance.spec.user.flatMap(ServiceUser.named) : nil)
                try state.journal(service, "restarted", Reconciler.describe(process))
                var updated = instance
                updated.process = process
                try state.save(service, updated)
                if entry.restarts.count >= crashLoopRestarts { entry.status.state = .crashLooping }
            } catch {
                entry.status.lastExit = "cannot restart: \(error)"
            }
            tracked[service] = entry
        }
        for service in tracked.keys where instances[service] == nil { tracked[service] = nil }
    }
}
