import AgentCore
import ArgumentParser
import FoundationEssentials
import Identity
import OrchestratorClient
import StellwerkAPI

/// `stellwerk-agent run`: keep the node at its desired state and supervise what runs.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Keep this node at its desired state and supervise its instances until stopped.",
        discussion: """
            After `join`, the agent long-polls its orchestrator over mutual TLS for the node's desired
            state, converges to each new one (like `apply`), and reports after every change and on a
            heartbeat. When the orchestrator is unreachable it keeps running the last desired state
            (saved in DATA/desired.json) and retries with a growing pause, never giving up. Its client
            certificate is renewed after two thirds of its lifetime.

            With --desired FILE it converges to that file instead and needs no orchestrator.

            Every second it checks that each instance's process still runs, restarting one that exited
            after a back-off that doubles with each crash (1 s up to --max-backoff); five restarts within
            five minutes mark it crash-looping. The current report is kept in DATA/report.json. SIGTERM or
            SIGINT ends the agent and leaves the services running (so the agent can be upgraded without
            downtime) unless --stop-services is given.

            Examples:
              stellwerk-agent run --data /var/lib/stellwerk
              stellwerk-agent run --desired node.json --data /var/lib/stellwerk \\
                --orchestrator-key /etc/stellwerk/orchestrator.pub --artifacts /var/lib/stellwerk/artifacts
            """)

    @Option(help: ArgumentHelp("The agent's data folder.", valueName: "DIR"))
    var data: String

    @Option(help: ArgumentHelp("A desired state (JSON) to keep instead of pulling one.", valueName: "FILE"))
    var desired: String?

    @Option(help: ArgumentHelp("With --desired: the orchestrator's Ed25519 public key, base64.", valueName: "FILE"))
    var orchestratorKey: String?

    @Option(
        help: ArgumentHelp(
            "A folder of artifacts named <sha256>.tar (default with an orchestrator: DATA/artifacts).",
            valueName: "DIR"))
    var artifacts: String?

    @Option(help: ArgumentHelp("Secret values for this node (JSON name → value, mode 0600).", valueName: "FILE"))
    var secrets: String?

    @Flag(help: "Stop every service when the agent is asked to stop.") var stopServices = false
    @Option(help: "Restarts within five minutes after which an instance counts as crash-looping.")
    var crashLoopRestarts = 5
    @Option(help: "The longest wait before restarting an exited service, in seconds.") var maxBackoff = 60
    @Option(help: "Seconds between reports when nothing changes.") var heartbeat = 10

    func run() async throws {
        OrchestratorConnection.useOneNetworkThread()
        let stop = StopSignal()
        let loop: AgentLoop
        if let desired {
            guard let orchestratorKey, let artifacts else {
                throw ValidationError("--desired needs --orchestrator-key and --artifacts too")
            }
            let (state, reconciler) = try LocalDesiredState.prepare(
                desired: desired, data: data, orchestratorKey: orchestratorKey, artifacts: artifacts, secrets: secrets)
            loop = AgentLoop(reconciler: reconciler, data: URL(fileURLWithPath: data), settings: self)
            await loop.converge(to: DesiredStateResponse(serial: 0, state: state))
            try await loop.supervise(until: stop, orchestrator: nil)
        } else {
            let folder = URL(fileURLWithPath: data)
            let identity = NodeIdentity(folder: folder.appendingPathComponent("identity"))
            guard identity.exists else {
                throw ValidationError(
                    "\(data) holds no node identity: run `stellwerk-agent join URL --token-file FILE --ca-fingerprint SHA256 --data \(data)` first, or pass --desired FILE"
                )
            }
            let orchestrator = try Orchestrator(identity: identity)
            let reconciler = Reconciler(
                configuration: AgentConfiguration(
                    dataFolder: folder, orchestratorKey: try orchestrator.signingKey(),
                    artifactFolder: artifacts.map(URL.init(fileURLWithPath:))
                        ?? folder.appendingPathComponent("artifacts"),
                    secrets: try LocalDesiredState.readSecrets(secrets), artifactSource: orchestrator),
                state: try AgentState(folder: folder))
            loop = AgentLoop(reconciler: reconciler, data: folder, settings: self)
            if let saved = loop.savedDesiredState() {
                await loop.converge(to: saved)
            } else {
                // Nothing to run yet; the heartbeat still tells the orchestrator the node is there.
                loop.startEmpty(node: orchestrator.node, environment: orchestrator.environment)
            }
            try await loop.supervise(until: stop, orchestrator: orchestrator)
        }
        if stopServices { await loop.stopAll() }
    }
}

/// The agent's main loop: converge to new desired states, supervise instances, report.
final class AgentLoop: @unchecked Sendable {
    // Only the loop's own task touches these; the poller hands states over through `inbox`.
    private let reconciler: Reconciler
    private let data: URL
    private let heartbeat: Duration
    private let crashLoopRestarts: Int
    private let maximumBackoff: Duration
    private var report: NodeReport?
    private var serial = 0
    private var supervisor: Supervisor?
    private var address = ""

    init(reconciler: Reconciler, data: URL, settings: RunCommand) {
        self.reconciler = reconciler
        self.data = data
        heartbeat = .seconds(max(1, settings.heartbeat))
        crashLoopRestarts = max(1, settings.crashLoopRestarts)
        maximumBackoff = .seconds(max(1, settings.maxBackoff))
    }

    private var desiredFile: URL { data.appendingPathComponent("desired.json") }

    /// The desired state last received, so a restarted agent without its orchestrator keeps it.
    func savedDesiredState() -> DesiredStateResponse? {
        guard let contents = FileManager.default.contents(atPath: desiredFile.path) else { return nil }
        return try? JSONDecoder().decode(DesiredStateResponse.self, from: contents)
    }

    func converge(to desired: DesiredStateResponse) async {
        if let encoded = try? JSONEncoder().encode(desired) {
            try? encoded.write(to: desiredFile, options: .atomic)
        }
        var next = await reconciler.apply(desired.state)
        // Installing reads and unpacks artifacts in buffers of megabytes, and glibc keeps what was
        // freed in its per-thread arenas: an idle agent should not carry an install's peak.
        FreedMemory.giveBack()
        next.desiredSerial = desired.serial
        serial = desired.serial
        report = next
        if supervisor == nil || address != desired.state.address {
            address = desired.state.address
            supervisor = Supervisor(
                state: reconciler.state, node: desired.state.node, address: desired.state.address,
                crashLoopRestarts: crashLoopRestarts, maximumBackoff: maximumBackoff)
        }
        writeReport()
    }

    func startEmpty(node: String, environment: String) {
        report = NodeReport(node: node, environment: environment, desiredSerial: nil, instances: [])
    }

    func supervise(until stop: StopSignal, orchestrator: Orchestrator?) async throws {
        let inbox = Inbox()
        let poller = orchestrator.map { orchestrator in
            Task { [serial] in await orchestrator.poll(from: serial, into: inbox) }
        }
        defer { poller?.cancel() }
        var lastSent: NodeReport?
        var lastSentAt = ContinuousClock.now - .seconds(3600)
        while !stop.received {
            if let desired = await inbox.take() {
                await converge(to: desired)
            } else {
                try? await Task.sleep(for: .seconds(1))
                await refreshFromSupervisor()
            }
            guard let orchestrator, let report else { continue }
            if report != lastSent || ContinuousClock.now - lastSentAt >= heartbeat {
                if await orchestrator.send(report) {
                    lastSent = report
                    lastSentAt = .now
                }
            }
            await orchestrator.renewIfDue()
        }
    }

    private func refreshFromSupervisor() async {
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

    private func writeReport() {
        guard let report else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try? encoder.encode(report).write(to: data.appendingPathComponent("report.json"), options: .atomic)
    }

    func stopAll() async {
        for instance in (try? reconciler.state.instances().values.map { $0 }) ?? [] {
            if let process = instance.process {
                await StopProcess.stop(process, grace: .seconds(instance.spec.stopGraceSeconds))
            }
        }
    }
}

/// Hands the newest desired state from the poller to the loop; an older one not yet taken is replaced.
actor Inbox {
    private var pending: DesiredStateResponse?
    func put(_ desired: DesiredStateResponse) { pending = desired }
    func take() -> DesiredStateResponse? {
        defer { pending = nil }
        return pending
    }
}
