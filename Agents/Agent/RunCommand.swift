import AgentCore
import ArgumentParser
import FoundationEssentials
import Identity
import Logging
import OrchestratorClient
import ServiceLifecycle
import StellwerkAPI

/// `stellwerk-agent run`: keep the node at its desired state and supervise what runs.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Keep this node at its desired state and supervise its instances until stopped.",
        discussion: """
            After `join`, the agent long-polls its orchestrator over mutual TLS for the node's desired \
            state, converges to each new one the moment it arrives (like `apply`), and reports after \
            every change and on a heartbeat. When the orchestrator is unreachable it keeps running the \
            last desired state (saved in DATA/desired.json) and retries with a growing pause, never \
            giving up; an install that could not download its artifact is tried again the same way. Its \
            client certificate is renewed after two thirds of its lifetime.

            With --desired FILE it converges to that file instead and needs no orchestrator.

            Every second it checks that each instance's process still runs, restarting one that exited \
            after a back-off that doubles with each crash (1 s up to --max-backoff); five restarts within \
            five minutes mark it crash-looping. The current report is kept in DATA/report.json. SIGTERM or \
            SIGINT ends the agent and leaves the services running (so the agent can be upgraded without \
            downtime) unless --stop-services is given. --metrics 127.0.0.1:9464 serves convergence \
            counts and durations and the instances' states at /metrics (off by default).

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
    @Option(
        help: ArgumentHelp(
            "Restarts within five minutes after which an instance counts as crash-looping (1–1000).",
            valueName: "COUNT"))
    var crashLoopRestarts = 5
    @Option(help: ArgumentHelp("The longest wait before restarting an exited service (1–86400).", valueName: "SECONDS"))
    var maxBackoff = 60
    @Option(help: ArgumentHelp("Seconds between reports when nothing changes (1–3600).", valueName: "SECONDS"))
    var heartbeat = 10
    @Option(
        help: ArgumentHelp(
            "Serve Prometheus metrics at http://HOST:PORT/metrics (a loopback address; off by default).",
            valueName: "HOST:PORT"))
    var metrics: String?

    func validate() throws {
        for (name, value, range) in [
            ("--crash-loop-restarts", crashLoopRestarts, 1...1000), ("--max-backoff", maxBackoff, 1...86400),
            ("--heartbeat", heartbeat, 1...3600),
        ] where !range.contains(value) {
            throw ValidationError("\(name) \(value): give a number from \(range.lowerBound) to \(range.upperBound)")
        }
    }

    func run() async throws {
        OrchestratorConnection.useOneNetworkThread()
        let settings = AgentSettings(
            heartbeat: .seconds(heartbeat), crashLoopRestarts: crashLoopRestarts,
            maximumBackoff: .seconds(maxBackoff), stopServices: stopServices,
            metricsAddress: try metrics.map(Self.metricsAddress))
        let service: AgentService
        if let desired {
            guard let orchestratorKey, let artifacts else {
                throw ValidationError("--desired needs --orchestrator-key and --artifacts too")
            }
            let (state, reconciler, _) = try LocalDesiredState.prepare(
                desired: desired, data: data, orchestratorKey: orchestratorKey, artifacts: artifacts, secrets: secrets)
            service = AgentService(
                reconciler: reconciler, data: URL(fileURLWithPath: data), settings: settings, orchestrator: nil,
                initial: DesiredStateResponse(serial: 0, state: state), metrics: AgentMetrics())
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
            service = AgentService(
                reconciler: reconciler, data: folder, settings: settings, orchestrator: orchestrator,
                initial: AgentService.savedDesiredState(in: folder), metrics: AgentMetrics())
        }
        // The one shutdown path of every Stellwerk process: a service group that ends on SIGTERM or
        // SIGINT, letting the service finish what it does.
        var logger = Logger(label: "stellwerk-agent")
        logger.logLevel = .warning
        try await ServiceGroup(
            configuration: .init(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        ).run()
    }

    /// `HOST:PORT` for the metrics endpoint; anything else is refused before the agent starts.
    static func metricsAddress(_ text: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else { throw ValidationError("--metrics \(text): give HOST:PORT, such as 127.0.0.1:9464") }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError("--metrics \(text): give HOST:PORT, such as 127.0.0.1:9464") }
        // The metrics need no credentials, so they stay on this machine; a local Prometheus or a
        // proxy with authentication passes them on.
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        let loopback =
            host == "localhost" || host == "::1"
            || (octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil })
        guard loopback else {
            throw ValidationError(
                "--metrics \(text): the metrics have no authentication; give a loopback address (127.x.y.z, ::1 or localhost)"
            )
        }
        return (host, port)
    }
}
