import ArgumentParser
import Foundation
import Identity
import Model
import OrchestratorClient
import Planner
import StellwerkAPI
import Synchronization
import TestSupport
import WorkspaceFiles

/// The orchestrator at scale (issue #23: 10,000 agents held with < 1 GB RSS per server, a no-op
/// apply < 2 s, leader failover < 15 s), on several servers sharing one store, with simulated
/// agents that speak the real protocol.
struct ServerBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract:
            "Measure the servers: many agents long-polling and reporting, a rollout with a leader kill, a no-op apply.",
        discussion: """
            For each size, starts SERVERS `stellwerk server` processes on one throwaway PostgreSQL (or one
            server on SQLite with --store sqlite), generates a workspace of that many nodes (20 per site),
            and joins one simulated agent per node, spread over the servers: each makes its own key,
            redeems its own join token and holds its own mutual-TLS connection, long-polling for desired
            state and reporting it back as running, and goes on with another server when its own goes
            away. It samples each server's RSS and CPU and PostgreSQL's connections while the agents
            idle, times the plan, rolls a release out to every node (canary 1, then --max-in-flight at
            a time, 1 s healthy) and kills the leading server with SIGKILL a third of the way through
            (the failover is the time until another server holds the rollout lease), then times no-op
            applies.

            Example:
              swift build -c release && .build/release/stellwerk-bench server --agents 1000,5000,10000
            """)

    @Option(help: "Agents (nodes) per run, comma-separated (20 to 20000 each).") var agents = "1000"
    @Option(help: "Servers on the one store (1 to 4).") var servers = 2
    @Option(help: "postgres (a throwaway PostgreSQL) or sqlite (one server only).") var store = "postgres"
    @Option(help: "Nodes a rollout wave updates at once.") var maxInFlight = 500
    @Option(help: "Seconds to sample the idle servers.") var idleSeconds = 10
    @Flag(help: "Do not kill the leading server during the rollout.") var keepLeader = false

    func validate() throws {
        _ = try BenchServer.nodeCounts(agents, within: 20...20_000)
        guard (1...4).contains(servers) else { throw ValidationError("--servers \(servers): give 1 to 4") }
        guard ["postgres", "sqlite"].contains(store) else {
            throw ValidationError("--store \(store): give postgres or sqlite")
        }
        guard store == "postgres" || servers == 1 else {
            throw ValidationError("--store sqlite: a SQLite store has one server; give --servers 1")
        }
        guard (1...20_000).contains(maxInFlight) else {
            throw ValidationError("--max-in-flight \(maxInFlight): give 1 to 20000")
        }
        guard (1...600).contains(idleSeconds) else {
            throw ValidationError("--idle-seconds \(idleSeconds): give 1 to 600")
        }
    }

    func run() async throws {
        let postgres = store == "postgres" ? try await PostgresServer.dedicated() : nil
        var results: [Result] = []
        for count in try BenchServer.nodeCounts(agents, within: 20...20_000) {
            results.append(try await measure(agents: count, postgres: postgres))
        }
        print("\nSummary (\(servers) server(s), \(store)):")
        for result in results { print(result.line) }
    }

    /// What one size measured.
    struct Result {
        var agents: Int
        var planSeconds: Double
        var noOpSeconds: Double
        var rolloutSeconds: Double
        var failoverSeconds: Double?
        var peakRSS: [Int]
        /// Each server's RSS while the agents are spread over all of them, idle.
        var heldRSS: [Int]
        /// The survivor's RSS once it holds every agent alone, after the rollout and the failover.
        var heldAloneRSS: Int?
        var idleCPU: [Double]
        var connections: Int?

        var line: String {
            let rss = peakRSS.map { Measurement.megabytes($0) }.joined(separator: " / ")
            let cpu = idleCPU.map { String(format: "%.3f", $0) }.joined(separator: " / ")
            return
                "  \(agents) agents: plan (snapshot + plan, no-op) \(Measurement.milliseconds(planSeconds)), no-op apply "
                + "\(Measurement.milliseconds(noOpSeconds)) (target < 2 s, ratio \(String(format: "%.2f", noOpSeconds / 2))), "
                + "rollout \(String(format: "%.1f", rolloutSeconds)) s, failover "
                + (failoverSeconds.map {
                    "\(String(format: "%.1f", $0)) s (target < 15 s, ratio \(String(format: "%.2f", $0 / 15)))"
                }
                    ?? "not measured")
                + "; RSS per server holding them \(heldRSS.map { Measurement.megabytes($0) }.joined(separator: " / ")) "
                + "(target < 1 GB, ratio \(String(format: "%.2f", Double(heldRSS.max() ?? 0) / 1e9)))"
                + (heldAloneRSS.map {
                    ", one server holding all after the failover \(Measurement.megabytes($0)) (ratio \(String(format: "%.2f", Double($0) / 1e9)))"
                } ?? "")
                + "; peak RSS per server \(rss) (during the rollout and the failover); "
                + "idle CPU per server \(cpu) cores; PostgreSQL connections \(connections.map(String.init) ?? "-")"
        }
    }

    private func measure(agents count: Int, postgres: PostgresServer?) async throws -> Result {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "stellwerk-server-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let products = BenchServer.productsFolder

        // The workspace and what the planner makes of it.
        let sites = (count + 19) / 20
        let synthetic = SyntheticWorkspace(seed: 7, sites: sites, nodesPerSite: 20)
        let workspaceFolder = root.appendingPathComponent("workspace")
        try Fixtures.write(try synthetic.files(), under: workspaceFolder)
        let workspace = try WorkspaceLoader(source: DiskSourceTree(root: workspaceFolder)).load()
        let environmentName = workspace.environmentNames.first ?? "sandbox"
        let environment = try EnvironmentResolver(workspace: workspace).resolve(environmentName)
        let nodes = Array(
            environment.sites.flatMap { site in site.nodes.map { (node: $0.name, site: site.name) } }.prefix(count))
        let storeURL = try await postgres?.createDatabase()

        // The servers, as operators run them: the first makes the key file the others are given.
        var running: [(pid: pid_t, url: String, id: String)] = []
        defer {
            for server in running {
                kill(server.pid, SIGTERM)
                var status: Int32 = 0
                waitpid(server.pid, &status, 0)
            }
        }
        for index in 0..<servers {
            let data = root.appendingPathComponent("server-\(index)")
            let portFile = root.appendingPathComponent("port-\(index)")
            // STELLWERK_BENCH_WRAP runs each server under a tool (`heaptrack -o FILE`, say).
            let wrap =
                ProcessInfo.processInfo.environment["STELLWERK_BENCH_WRAP"].map {
                    $0.split(separator: " ").map(String.init)
                } ?? []
            let pid = try Spawn.run(
                wrap.first ?? products.appendingPathComponent("stellwerk").path,
                wrap.dropFirst() + (wrap.isEmpty ? [] : [products.appendingPathComponent("stellwerk").path]) + [
                    "server", "--data", data.path, "--listen", "127.0.0.1:0", "--port-file", portFile.path,
                    "--admin-token-file", root.appendingPathComponent("admin-\(index)").path,
                    // The simulated agents all come from 127.0.0.1; real ones from an address each.
                    "--max-connections-per-client", String(min(100_000, 2 * count + 64)),
                ] + (storeURL.map { ["--store", $0] } ?? [])
                    + (index > 0 ? ["--secrets-key", root.appendingPathComponent("server-0/secrets.key").path] : []),
                standardOutput: root.appendingPathComponent("server-\(index).log").path, wait: false
            ).pid
            let listening = ContinuousClock.now + .seconds(60)
            while !FileManager.default.fileExists(atPath: portFile.path) {
                guard ContinuousClock.now < listening, kill(pid, 0) == 0 else {
                    let log =
                        (try? String(contentsOf: root.appendingPathComponent("server-\(index).log"), encoding: .utf8))
                        ?? ""
                    throw ValidationError("server \(index) did not listen within 60 s: \(log.suffix(2000))")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            let port = try String(contentsOf: portFile, encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines)
            let id = try String(contentsOf: data.appendingPathComponent("server-id"), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            running.append((pid, "https://127.0.0.1:\(port)", id))
        }
        let urls = running.map(\.url)
        let authority = try String(contentsOf: root.appendingPathComponent("server-0/ca/ca.pem"), encoding: .utf8)
        let token = try String(contentsOf: root.appendingPathComponent("admin-0"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var admin = try OrchestratorConnection(url: urls[0], authority: authority, token: token)
        print(
            "\n\(count) agents in \(environment.sites.count) sites, \(servers) server(s) on \(store): \(urls.joined(separator: ", "))"
        )

        // Join every agent through a server of its own (round robin): its own key, token and connection.
        let joiner = admin
        let (agentList, joinSeconds) = try await Measurement.secondsAsync {
            try await withThrowingTaskGroup(of: SimulatedAgent.self) { group in
                var joined: [SimulatedAgent] = []
                var next = 0
                func add() {
                    guard next < nodes.count else { return }
                    let node = nodes[next]
                    let order = Array(urls[(next % urls.count)...] + urls[..<(next % urls.count)])
                    next += 1
                    group.addTask {
                        try await SimulatedAgent.join(
                            node: node.node, site: node.site, environment: environmentName, urls: order,
                            authority: authority, admin: joiner)
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
        print("Joined \(agentList.count) agents in \(String(format: "%.1f", joinSeconds)) s")
        let polling = agentList.map { agent in Task { await agent.run() } }
        defer { for task in polling { task.cancel() } }
        var peakRSS = running.map { AgentProcess.residentBytes($0.pid) }
        func sample() {
            for (index, server) in running.enumerated() where kill(server.pid, 0) == 0 {
                peakRSS[index] = max(peakRSS[index], AgentProcess.residentBytes(server.pid))
            }
        }

        // Idle: every agent long-polling and reporting on its heartbeat.
        try await Task.sleep(for: .seconds(5))
        let cpuBefore = running.map { AgentProcess.cpuSeconds($0.pid) }
        try await Task.sleep(for: .seconds(idleSeconds))
        let idleCPU = running.indices.map {
            (AgentProcess.cpuSeconds(running[$0].pid) - cpuBefore[$0]) / Double(idleSeconds)
        }
        sample()
        let heldRSS = running.map { AgentProcess.residentBytes($0.pid) }
        var connections: Int?
        if let postgres, let storeURL, let database = storeURL.split(separator: "/").last {
            let counted = try await postgres.psql(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = '\(database)'", database: "postgres")
            connections = Int(counted.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        print(
            "Idle: RSS per server \(running.map { Measurement.megabytes(AgentProcess.residentBytes($0.pid)) }.joined(separator: " / ")), "
                + "CPU \(idleCPU.map { String(format: "%.3f", $0) }.joined(separator: " / ")) cores, "
                + "PostgreSQL connections \(connections.map(String.init) ?? "-")")

        // A release to roll out.
        let tar = root.appendingPathComponent("component.tar")
        try Data(repeating: 0, count: 10_240).write(to: tar)
        let (sha, size) = try await admin.upload(file: tar)
        let manifest = ReleaseManifest(
            id: "r-bench", version: "1", revision: "",
            components: ["datenplattform": ComponentArtifact(sha256: sha, size: size, migrations: [])])
        _ = try await admin.send(.createRelease(manifest))
        let settings = RolloutSettings(
            canary: 1, maxInFlight: maxInFlight, maxInFlightPercent: false, minHealthySeconds: 1,
            healthyDeadlineSeconds: 300, progressDeadlineSeconds: 600, autoRollback: true, lostAfterSeconds: 120,
            onDisconnected: .wait)
        // The server applies nothing to an environment before an approver recorded its policy.
        _ = try await admin.send(
            .proposePolicy(EnvironmentPolicy(rollout: settings, promotion: nil), environment: environment.name))
        // Nor a plan that names secrets it does not hold.
        for name in environment.secretNames.sorted() {
            _ = try await admin.send(
                .generateSecret(name, environment: environment.name, SecretGenerateRequest(kind: .token)))
        }
        let (firstPlan, firstPlanSeconds) = try await Measurement.secondsAsync {
            try await plan(environment, revision: workspace.revision, release: manifest, admin: admin)
        }
        print("Plan for \(nodes.count) nodes (snapshot + plan): \(Measurement.milliseconds(firstPlanSeconds))")

        // The rollout, with the leader killed a third of the way through.
        var failover: Double?
        let (rollout, rolloutSeconds) = try await Measurement.secondsAsync {
            var plan = firstPlan
            plan.rollout = settings
            let started = try await admin.send(.startRollout(plan))
            let deadline = ContinuousClock.now + .seconds(900)
            while ContinuousClock.now < deadline {
                sample()
                let view = try await admin.send(.rollout(started.id))
                if !view.isActive { return view }
                let done = view.steps.filter { $0.state == .done }.count
                if failover == nil, !keepLeader, running.count > 1, done * 3 >= view.steps.count {
                    let (seconds, survivor) = try await killLeader(
                        &running, admin: admin, authority: authority, token: token)
                    failover = seconds
                    await admin.shutdown()
                    admin = try OrchestratorConnection(url: survivor, authority: authority, token: token)
                    print(
                        "Killed the leader after \(done) of \(view.steps.count) nodes; another server led in \(String(format: "%.1f", seconds)) s"
                    )
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            throw ValidationError("rollout \(started.id) did not end within 900 s")
        }
        print(
            "Rollout to \(rollout.steps.count) nodes: \(rollout.state) in \(String(format: "%.1f", rolloutSeconds)) s "
                + "(canary, then \(maxInFlight) at a time, each at least 1 s healthy)")
        if rollout.state != .succeeded {
            let stuck = rollout.steps.filter { $0.state != .done }.prefix(5).map { "\($0.node): \($0.detail)" }
            throw ValidationError("the rollout \(rollout.state): \(rollout.message); for example \(stuck)")
        }

        // No-op rounds: recorded state and plan (as `stellwerk plan`), then the apply of the plan.
        var plans: [Double] = []
        var rounds: [Double] = []
        for _ in 0..<5 {
            let (planned, planning) = try await Measurement.secondsAsync {
                try await plan(environment, revision: workspace.revision, release: manifest, admin: admin)
            }
            var noOp = planned
            noOp.rollout = settings
            let (view, seconds) = try await Measurement.secondsAsync { try await admin.send(.startRollout(noOp)) }
            guard view.steps.isEmpty else { throw ValidationError("the no-op round changed \(view.steps.count) nodes") }
            plans.append(planning)
            rounds.append(seconds)
        }
        sample()
        // What the survivor holds once the work is done: every agent, idle again.
        var heldAlone: Int?
        if failover != nil, running.count == 1 {
            try await Task.sleep(for: .seconds(idleSeconds))
            heldAlone = AgentProcess.residentBytes(running[0].pid)
            print("Held alone after the failover: RSS \(Measurement.megabytes(heldAlone ?? 0))")
        }
        let median = Measurement.median(rounds)
        let planSeconds = Measurement.median(plans)
        print(
            "No-op round: plan median \(Measurement.milliseconds(planSeconds)), apply median "
                + "\(Measurement.milliseconds(median)) of \(rounds.count)")
        for task in polling { task.cancel() }
        for agent in agentList { await agent.close() }
        await admin.shutdown()
        return Result(
            agents: count, planSeconds: planSeconds, noOpSeconds: median, rolloutSeconds: rolloutSeconds,
            failoverSeconds: failover, peakRSS: peakRSS, heldRSS: heldRSS, heldAloneRSS: heldAlone, idleCPU: idleCPU,
            connections: connections)
    }

    /// Kills the server holding the rollout lease with SIGKILL; answers how long until another held
    /// it, and that one's address.
    private func killLeader(
        _ running: inout [(pid: pid_t, url: String, id: String)], admin: OrchestratorConnection, authority: String,
        token: String
    ) async throws -> (seconds: Double, survivor: String) {
        let locks = try await admin.send(.locks)
        guard let holder = locks.first(where: { $0.name == "rollout-engine" })?.holder,
            let index = running.firstIndex(where: { $0.id == holder })
        else { throw ValidationError("no server holds the rollout lease") }
        let leader = running.remove(at: index)
        let survivor = running[0].url
        let watcher = try OrchestratorConnection(url: survivor, authority: authority, token: token)
        defer { Task { await watcher.shutdown() } }
        let clock = ContinuousClock()
        let killed = clock.now
        kill(leader.pid, SIGKILL)
        var status: Int32 = 0
        waitpid(leader.pid, &status, 0)
        while clock.now - killed < .seconds(120) {
            let now = try await watcher.send(.locks).first { $0.name == "rollout-engine" }
            if let now, now.holder != leader.id, now.expiresAt > Date() {
                let elapsed = clock.now - killed
                return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, survivor)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ValidationError("no other server took the rollout lease within 120 s of killing \(leader.id)")
    }

    private func plan(
        _ environment: ResolvedEnvironment, revision: String, release: ReleaseManifest, admin: OrchestratorConnection
    ) async throws -> Plan {
        let snapshot = try await admin.send(.snapshot(environment.name))
        return Planner(release: release).plan(environment, revision: revision, recorded: snapshot)
    }
}

/// One node's agent without the processes: it long-polls, reports each desired state as running,
/// and goes on with the next server when its own cannot be reached (as the real agent does).
final class SimulatedAgent: Sendable {
    let node: String
    let environment: String
    /// The servers, its own first, and a connection to each once needed.
    let urls: [String]
    let authority: String
    let identity: (certificate: String, key: String)
    private let connections: Mutex<[Int: OrchestratorConnection]>

    init(
        node: String, environment: String, urls: [String], authority: String,
        identity: (certificate: String, key: String), first: OrchestratorConnection
    ) {
        self.node = node
        self.environment = environment
        self.urls = urls
        self.authority = authority
        self.identity = identity
        connections = Mutex([0: first])
    }

    static func join(
        node: String, site: String, environment: String, urls: [String], authority: String,
        admin: OrchestratorConnection
    ) async throws -> SimulatedAgent {
        let issued = try await admin.send(
            .createJoinToken(JoinTokenRequest(environment: environment, site: site, node: node, ttlSeconds: 3600)))
        let (key, request) = try NodeIdentity.makeRequest()
        let anonymous = try OrchestratorConnection(url: urls[0], authority: authority)
        let answer = try await anonymous.send(.join(JoinRequest(token: issued.token, certificateRequest: request)))
        await anonymous.shutdown()
        let identity = (answer.certificate, key.pemRepresentation)
        let connection = try OrchestratorConnection(url: urls[0], authority: authority, clientCertificate: identity)
        return SimulatedAgent(
            node: node, environment: environment, urls: urls, authority: authority, identity: identity,
            first: connection)
    }

    private func connection(_ index: Int) throws -> OrchestratorConnection {
        if let open = connections.withLock({ $0[index] }) { return open }
        let made = try OrchestratorConnection(url: urls[index], authority: authority, clientCertificate: identity)
        connections.withLock { $0[index] = made }
        return made
    }

    func run() async {
        var known = -1
        var current = 0
        var report = NodeReport(node: node, environment: environment, desiredSerial: nil, instances: [])
        var lastReport = ContinuousClock.now - .seconds(60)
        while !Task.isCancelled {
            do {
                let connection = try connection(current)
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
            } catch let error as ClientError where error.code == .unreachable || (error.status ?? 0) >= 500 {
                current = (current + 1) % urls.count
                // As the real agent: up to 2 s before the next server, a second after a full round.
                try? await Task.sleep(for: current == 0 ? .seconds(1) : .milliseconds(Int.random(in: 0...2_000)))
            } catch {
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    func close() async {
        for connection in connections.withLock({ Array($0.values) }) { await connection.shutdown() }
    }
}
