import ArgumentParser
import Foundation
import Identity
import Model
import OrchestratorClient
import Planner
import StellwerkAPI
import TestSupport
import WorkspaceFiles

/// The orchestrator at scale (issue: 1,000 agents held with < 300 MB server RSS; a no-op plan + apply
/// round for 1,000 nodes < 2 s), with simulated agents that speak the real protocol.
struct ServerBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Measure the server: many agents long-polling and reporting, a rollout to all, a no-op round.",
        discussion: """
            Starts `stellwerk server` as its own process, generates a workspace of SITES × NODES nodes, and
            joins one simulated agent per node: each makes its own key, redeems its own join token, and
            holds its own mutual-TLS connection, long-polling for desired state and reporting it back as
            running. It samples the server's RSS and CPU while the agents idle, rolls a release out to
            every node (canary 1, then 50% at a time, 1 s minimum healthy time), and times a no-op round:
            fetch the recorded state, plan, apply (nothing to change).

            Example:
              swift run -c release stellwerk-bench server --sites 50 --nodes-per-site 20
            """)

    @Option(help: "Sites in the generated environment.") var sites = 50
    @Option(help: "Nodes per site.") var nodesPerSite = 20
    @Option(help: "Seconds to sample the idle server.") var idleSeconds = 10

    func run() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "stellwerk-server-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent()

        // The workspace and what the planner makes of it.
        let synthetic = SyntheticWorkspace(seed: 7, sites: sites, nodesPerSite: nodesPerSite)
        let workspaceFolder = root.appendingPathComponent("workspace")
        try Fixtures.write(try synthetic.files(), under: workspaceFolder)
        let workspace = try WorkspaceLoader(source: DiskSourceTree(root: workspaceFolder)).load()
        let environmentName = workspace.environmentNames.first ?? "sandbox"
        let environment = try EnvironmentResolver(workspace: workspace).resolve(environmentName)
        let nodes = environment.sites.flatMap { site in site.nodes.map { (node: $0.name, site: site.name) } }

        // The server, as operators run it.
        let portFile = root.appendingPathComponent("port")
        let server = try Spawn.run(
            products.appendingPathComponent("stellwerk").path,
            [
                "server", "--data", root.appendingPathComponent("server").path, "--listen", "127.0.0.1:0",
                "--port-file", portFile.path, "--admin-token-file", root.appendingPathComponent("admin").path,
                // The simulated agents all come from 127.0.0.1; real ones from an address each.
                "--max-connections-per-client", String(min(100_000, 2 * nodes.count + 64)),
            ], standardOutput: root.appendingPathComponent("server.log").path, wait: false
        ).pid
        defer {
            kill(server, SIGTERM)
            var status: Int32 = 0
            waitpid(server, &status, 0)
        }
        let listening = ContinuousClock.now + .seconds(60)
        while !FileManager.default.fileExists(atPath: portFile.path) {
            guard ContinuousClock.now < listening else {
                throw ValidationError("the server did not listen within 60 s; see \(root.path)/server.log")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let port = try String(contentsOf: portFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let url = "https://127.0.0.1:\(port)"
        let authority = try String(
            contentsOf: root.appendingPathComponent("server/ca/ca.pem"), encoding: .utf8)
        let token = try String(contentsOf: root.appendingPathComponent("admin"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let admin = try OrchestratorConnection(url: url, authority: authority, token: token)
        print("Server pid \(server) at \(url); \(nodes.count) nodes in \(environment.sites.count) sites")
        let baseline = AgentProcess.residentBytes(server)

        // Join every agent: its own key, token and connection.
        let (agents, joinSeconds) = try await Measurement.secondsAsync {
            try await withThrowingTaskGroup(of: SimulatedAgent.self) { group in
                var joined: [SimulatedAgent] = []
                var next = 0
                func add() {
                    guard next < nodes.count else { return }
                    let node = nodes[next]
                    next += 1
                    group.addTask {
                        try await SimulatedAgent.join(
                            node: node.node, site: node.site, environment: environmentName, url: url,
                            authority: authority, admin: admin)
                    }
                }
                for _ in 0..<16 { add() }
                while let agent = try await group.next() {
                    joined.append(agent)
                    add()
                }
                return joined
            }
        }
        print("Joined \(agents.count) agents in \(String(format: "%.1f", joinSeconds)) s")
        let polling = agents.map { agent in Task { await agent.run() } }
        defer { for task in polling { task.cancel() } }

        // Idle: every agent long-polling and reporting on its heartbeat.
        try await Task.sleep(for: .seconds(5))
        let cpuBefore = AgentProcess.cpuSeconds(server)
        try await Task.sleep(for: .seconds(idleSeconds))
        let idleCPU = (AgentProcess.cpuSeconds(server) - cpuBefore) / Double(idleSeconds)
        let idleRSS = AgentProcess.residentBytes(server)
        print(
            "Server holding \(agents.count) agents: RSS \(Measurement.megabytes(idleRSS)) (before agents "
                + "\(Measurement.megabytes(baseline)); target < 300 MB, ratio \(String(format: "%.2f", Double(idleRSS) / 300e6))), "
                + "CPU \(String(format: "%.2f", idleCPU)) cores")

        // A release to roll out.
        let tar = root.appendingPathComponent("component.tar")
        try Data(repeating: 0, count: 10_240).write(to: tar)
        let (sha, size) = try await admin.upload(file: tar)
        let manifest = ReleaseManifest(
            id: "r-bench", version: "1", revision: "",
            components: ["datenplattform": ComponentArtifact(sha256: sha, size: size, migrations: [])])
        _ = try await admin.send(.createRelease(manifest))

        let settings = RolloutSettings(
            canary: 1, maxInFlight: 50, maxInFlightPercent: true, minHealthySeconds: 1, healthyDeadlineSeconds: 120,
            progressDeadlineSeconds: 300, autoRollback: true, lostAfterSeconds: 120, onDisconnected: .wait)
        // The server applies nothing to an environment before an approver recorded its policy.
        _ = try await admin.send(
            .proposePolicy(EnvironmentPolicy(rollout: settings, promotion: nil), environment: environment.name))
        // Nor a plan that names secrets it does not hold.
        for name in environment.secretNames.sorted() {
            _ = try await admin.send(
                .generateSecret(name, environment: environment.name, SecretGenerateRequest(kind: .token)))
        }
        let cpuAtRollout = AgentProcess.cpuSeconds(server)
        let (rollout, rolloutSeconds) = try await Measurement.secondsAsync {
            var plan = try await plan(environment, revision: workspace.revision, release: manifest, admin: admin)
            plan.rollout = settings
            let started = try await admin.send(.startRollout(plan))
            // The rollout's own progress deadline (300 s) ends it; this only guards against a stuck server.
            let deadline = ContinuousClock.now + .seconds(600)
            while ContinuousClock.now < deadline {
                let view = try await admin.send(.rollout(started.id))
                if !view.isActive { return view }
                try await Task.sleep(for: .milliseconds(200))
            }
            throw ValidationError("rollout \(started.id) did not end within 600 s")
        }
        print(
            "Rollout to \(rollout.steps.count) nodes: \(rollout.state) in \(String(format: "%.1f", rolloutSeconds)) s "
                + "(3 waves, each at least 1 s healthy), server CPU \(String(format: "%.1f", AgentProcess.cpuSeconds(server) - cpuAtRollout)) s, "
                + "RSS \(Measurement.megabytes(AgentProcess.residentBytes(server)))")
        if rollout.state != .succeeded {
            let stuck = rollout.steps.filter { $0.state != .done }.prefix(5).map { "\($0.node): \($0.detail)" }
            throw ValidationError("the rollout \(rollout.state): \(rollout.message); for example \(stuck)")
        }

        // A no-op round: recorded state, plan, apply.
        var rounds: [Double] = []
        for _ in 0..<5 {
            let (view, seconds) = try await Measurement.secondsAsync {
                var plan = try await plan(environment, revision: workspace.revision, release: manifest, admin: admin)
                plan.rollout = settings
                return try await admin.send(.startRollout(plan))
            }
            guard view.steps.isEmpty else { throw ValidationError("the no-op round changed \(view.steps.count) nodes") }
            rounds.append(seconds)
        }
        let median = Measurement.median(rounds)
        print(
            "No-op plan + apply for \(nodes.count) nodes: median \(Measurement.milliseconds(median)) of \(rounds.count) "
                + "(target < 2 s, ratio \(String(format: "%.2f", median / 2)))")
        for task in polling { task.cancel() }
        for agent in agents { await agent.close() }
        await admin.shutdown()
    }

    private func plan(
        _ environment: ResolvedEnvironment, revision: String, release: ReleaseManifest, admin: OrchestratorConnection
    ) async throws -> Plan {
        let snapshot = try await admin.send(.snapshot(environment.name))
        return Planner(release: release).plan(environment, revision: revision, recorded: snapshot)
    }
}

/// One node's agent without the processes: it long-polls, and reports each desired state as running.
final class SimulatedAgent: Sendable {
    let node: String
    let environment: String
    let connection: OrchestratorConnection

    init(node: String, environment: String, connection: OrchestratorConnection) {
        self.node = node
        self.environment = environment
        self.connection = connection
    }

    static func join(
        node: String, site: String, environment: String, url: String, authority: String, admin: OrchestratorConnection
    ) async throws -> SimulatedAgent {
        let issued = try await admin.send(
            .createJoinToken(JoinTokenRequest(environment: environment, site: site, node: node, ttlSeconds: 3600)))
        let (key, request) = try NodeIdentity.makeRequest()
        let anonymous = try OrchestratorConnection(url: url, authority: authority)
        let answer = try await anonymous.send(.join(JoinRequest(token: issued.token, certificateRequest: request)))
        await anonymous.shutdown()
        let connection = try OrchestratorConnection(
            url: url, authority: authority, clientCertificate: (answer.certificate, key.pemRepresentation))
        return SimulatedAgent(node: node, environment: environment, connection: connection)
    }

    func run() async {
        var known = -1
        var report = NodeReport(node: node, environment: environment, desiredSerial: nil, instances: [])
        var lastReport = ContinuousClock.now - .seconds(60)
        while !Task.isCancelled {
            do {
                if ContinuousClock.now - lastReport > .seconds(10) {
                    _ = try await connection.send(.report(report))
                    lastReport = .now
                }
                guard let desired = try await connection.send(.desiredState(known: known, wait: 10), timeoutSeconds: 30)
                else { continue }
                known = desired.serial
                report = NodeReport(
                    node: node, environment: environment, desiredSerial: desired.serial,
                    instances: desired.state.instances.map {
                        InstanceReport(
                            spec: $0.reported, state: .running, health: "HTTP 200", lastError: nil, drift: [])
                    })
                _ = try await connection.send(.report(report))
                lastReport = .now
            } catch {
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    func close() async { await connection.shutdown() }
}
