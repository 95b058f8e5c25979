import AgentCore
import FoundationEssentials
import Identity
import ServiceLifecycle
import StellwerkAPI
import Synchronization
import Telemetry

/// The agent's long-running work, as the one service of its group: converge to each desired state the
/// moment it arrives, supervise what runs, report, renew the node certificate. It ends when the
/// process gets SIGTERM or SIGINT; the services keep running unless it was told to stop them.
final class AgentService: Service, @unchecked Sendable {
    // Only the service's own loop touches the vars; the other tasks meet it through `desired`,
    // `events` and `latestReport`, which are safe to share.
    private var reconciler: Reconciler
    /// Secret values from the agent's `--secrets` file (offline nodes); delivered ones go on top.
    private let fileSecrets: [String: String]
    /// Whether the last convergence had the secrets the orchestrator delivers: a state saved before a
    /// restart comes without them, and is converged again once they arrive.
    private var convergedWithDeliveredSecrets = false
    /// Until when a restarted agent waits for the secrets of its saved state before converging to it.
    private var waitingForSecretsUntil: ContinuousClock.Instant?
    static let secretsAtStartWait = Duration.seconds(15)
    private let data: URL
    private let settings: AgentSettings
    private let orchestrator: Orchestrator?
    private let metrics: AgentMetrics
    /// The newest desired state received, with the secret values delivered for it (in memory only);
    /// the loop converges to it, skipping any it was too busy for.
    private let desired: Mutex<Received?>

    private struct Received {
        var response: DesiredStateResponse
        var secrets: DeliveredSecrets?
    }
    private let latestReport = Mutex<NodeReport?>(nil)
    private var serial = -1
    /// The last desired state the node fully converged to (or failed at for good); nil before any.
    private var convergedSerial: Int?
    private var report: NodeReport?
    private var supervisor: Supervisor?
    private var address = ""
    private var retry: (at: ContinuousClock.Instant, backoff: Duration)?

    /// What wakes the loop.
    private enum Event {
        case desiredStateArrived, tick, stop
    }

    init(
        reconciler: Reconciler, data: URL, settings: AgentSettings, orchestrator: Orchestrator?,
        initial: DesiredStateResponse?, metrics: AgentMetrics
    ) {
        self.reconciler = reconciler
        fileSecrets = reconciler.configuration.secrets
        self.data = data
        self.settings = settings
        self.orchestrator = orchestrator
        self.metrics = metrics
        desired = Mutex(initial.map { Received(response: $0, secrets: nil) })
    }

    private var desiredFile: URL { data.appendingPathComponent("desired.json") }

    /// The desired state last received, so a restarted agent without its orchestrator keeps it; never
    /// with secret values, which the orchestrator sends again after a restart.
    static func savedDesiredState(in data: URL) -> DesiredStateResponse? {
        guard let contents = FileManager.default.contents(atPath: data.appendingPathComponent("desired.json").path)
        else { return nil }
        return try? WireJSON.decoder().decode(DesiredStateResponse.self, from: contents)
    }

    func run() async throws {
        let (events, wake) = AsyncStream<Event>.makeStream()
        let reports = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        if let node = orchestrator?.node, let environment = orchestrator?.environment, desiredNow == nil {
            // Nothing to run yet; the heartbeat still tells the orchestrator the node is there.
            publish(
                NodeReport(node: node, environment: environment, desiredSerial: nil, instances: []),
                reports.continuation)
        }
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                if let orchestrator {
                    // A saved state that names secrets is asked for again at once: its values were
                    // not saved, and a restarted agent may need them to render.
                    let saved = desiredNow?.response
                    let namesSecrets = saved?.state.instances.contains(where: { !$0.secretNames.isEmpty }) == true
                    let known = namesSecrets ? -1 : saved?.serial ?? -1
                    // Converging it without them would fail what must be rendered anew (an install the
                    // restart interrupted): wait for them a little, unless the orchestrator is away.
                    if namesSecrets { waitingForSecretsUntil = .now + Self.secretsAtStartWait }
                    group.addTask {
                        await orchestrator.poll(from: known) { state, secrets in
                            self.desired.withLock { current in
                                let newer = state.serial > (current?.response.serial ?? -1)
                                let completes =
                                    state.serial == current?.response.serial && current?.secrets == nil
                                    && secrets != nil
                                if newer || completes { current = Received(response: state, secrets: secrets) }
                            }
                            wake.yield(.desiredStateArrived)
                        }
                    }
                    group.addTask { await self.sendReports(reports.stream, to: orchestrator) }
                    group.addTask { await orchestrator.renewPeriodically() }
                }
                if let address = settings.metricsAddress {
                    group.addTask { await AgentMetricsServer(address: address, metrics: self.metrics).run() }
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(1))
                        wake.yield(.tick)
                    }
                }
                wake.yield(.desiredStateArrived)
                for await event in events {
                    switch event {
                    case .desiredStateArrived:
                        await convergeIfNewer()
                    case .tick:
                        if waitingForSecretsUntil != nil { await convergeIfNewer() }
                        await supervise()
                        if let retry, ContinuousClock.now >= retry.at { await convergeAgain() }
                    case .stop:
                        break
                    }
                    if case .stop = event { break }
                    if let report { publish(report, reports.continuation) }
                }
                reports.continuation.finish()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            wake.yield(.stop)
        }
        if settings.stopServices { await stopAll() }
    }

    private var desiredNow: Received? { desired.withLock { $0 } }

    // MARK: Converging

    private func convergeIfNewer() async {
        guard let next = desiredNow,
            next.response.serial > serial || report == nil || (next.secrets != nil && !convergedWithDeliveredSecrets)
        else { return }
        if let until = waitingForSecretsUntil {
            guard next.secrets != nil || ContinuousClock.now >= until else { return }
            waitingForSecretsUntil = nil
        }
        retry = nil
        await converge(to: next)
    }

    /// The last convergence could not download an artifact (the orchestrator was away): try the same
    /// state again, with a pause that doubles up to 30 s.
    private func convergeAgain() async {
        guard let current = desiredNow, let last = retry else { return }
        await converge(to: current)
        if let again = retry { retry = (again.at, min(last.backoff * 2, .seconds(30))) }
    }

    private func converge(to received: Received) async {
        let desired = received.response
        if let encoded = try? WireJSON.encoder().encode(desired) {
            try? PrivateFiles.write(encoded, to: desiredFile)
        }
        reconciler.configuration.secrets = fileSecrets.merging(received.secrets?.values ?? [:]) { _, delivered in
            delivered
        }
        reconciler.configuration.refusedSecrets = received.secrets?.refused ?? [:]
        convergedWithDeliveredSecrets = received.secrets != nil
        let started = ContinuousClock.now
        let outcome = await reconciler.converge(to: desired.state)
        metrics.convergences.add([outcome.retryLater ? "retrying" : Self.outcome(outcome.report)])
        metrics.convergenceSeconds.observe(ContinuousClock.now - started)
        // Installing reads and unpacks artifacts in buffers of megabytes, and glibc keeps what was
        // freed in its per-thread arenas: an idle agent should not carry an install's peak.
        FreedMemory.giveBack()
        // Made again once the disk has room, if a full disk took it.
        SpaceReserve.keep(in: reconciler.state.folder)
        var next = outcome.report
        // While a transient failure is retried (the orchestrator away mid-download), the node has not
        // reached this state yet: it reports the last one it did, so the rollout waits for it until
        // its deadline instead of failing on the first broken connection.
        if !outcome.retryLater { convergedSerial = desired.serial }
        next.desiredSerial = convergedSerial
        serial = desired.serial
        report = next
        let backoff = retry?.backoff ?? .seconds(1)
        retry = outcome.retryLater ? (ContinuousClock.now + backoff, backoff) : nil
        if supervisor == nil || address != desired.state.address {
            address = desired.state.address
            supervisor = Supervisor(
                state: reconciler.state, node: desired.state.node, address: desired.state.address,
                crashLoopRestarts: settings.crashLoopRestarts, maximumBackoff: settings.maximumBackoff)
        }
        writeReport()
    }

    private static func outcome(_ report: NodeReport) -> String {
        report.instances.allSatisfy({ $0.state == .running && $0.lastError == nil }) ? "converged" : "failed"
    }

    // MARK: Supervising and reporting

    private func supervise() async {
        guard let supervisor, var next = report else { return }
        await supervisor.check()
        let statuses = await supervisor.statuses()
        for index in next.instances.indices {
            guard let status = statuses[next.instances[index].spec.service] else { continue }
            next.instances[index].state = status.state
            next.instances[index].drift = status.drift
            if let health = status.health { next.instances[index].health = health }
            if let exit = status.lastExit, status.state != .running { next.instances[index].lastError = exit }
        }
        if next != report {
            report = next
            writeReport()
        }
    }

    private func publish(_ report: NodeReport, _ reports: AsyncStream<Void>.Continuation) {
        let changed = latestReport.withLock { latest in
            defer { latest = report }
            return latest != report
        }
        if changed { reports.yield() }
    }

    /// Sends each new report as soon as it is there, and the last one again every heartbeat, on a task
    /// of its own: an orchestrator that does not answer never holds up converging or supervising.
    private func sendReports(_ changes: AsyncStream<Void>, to orchestrator: Orchestrator) async {
        let heartbeat = settings.heartbeat
        await withTaskGroup(of: Void.self) { group in
            let (ticks, tick) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
            group.addTask {
                for await _ in changes { tick.yield() }
                tick.finish()
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: heartbeat)
                    tick.yield()
                }
            }
            var sent: NodeReport?
            var sentAt = ContinuousClock.now - .seconds(3600)
            for await _ in ticks {
                guard let report = latestReport.withLock({ $0 }) else { continue }
                guard report != sent || ContinuousClock.now - sentAt >= heartbeat else { continue }
                if await orchestrator.send(report) {
                    sent = report
                    sentAt = .now
                }
            }
            group.cancelAll()
        }
    }

    /// Writes the report file, with the metrics' instance counts updated first, so whoever reads the
    /// file never sees metrics older than it.
    private func writeReport() {
        guard let report else { return }
        metrics.setInstances(report.instances)
        try? PrivateFiles.write(
            WireJSON.encoder(pretty: true).encode(report), to: data.appendingPathComponent("report.json"))
    }

    private func stopAll() async {
        for instance in (try? reconciler.state.instances().values.map { $0 }) ?? [] {
            if let process = instance.process {
                await StopProcess.stop(process, grace: .seconds(instance.spec.stopGraceSeconds))
            }
        }
    }
}

/// How `stellwerk-agent run` was told to behave.
struct AgentSettings: Sendable {
    var heartbeat: Duration
    var crashLoopRestarts: Int
    var maximumBackoff: Duration
    var stopServices: Bool
    /// Where to serve `/metrics`, if anywhere (a loopback address and port).
    var metricsAddress: (host: String, port: Int)?
}
