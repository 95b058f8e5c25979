import ArgumentParser
import Database
import Foundation
import OrchestratorClient
import StellwerkAPI
import TestSupport

/// How long rollouts take end to end with real processes (issue #19): one orchestrator, N agents
/// (each node its own data folder and loopback address) and a tiny service that answers `/health` at
/// once, so what is measured is Stellwerk's own path, not a service's start.
struct RolloutBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout",
        abstract: "Measure deploy, no-op and a 4-wave upgrade with a real server and real agents.",
        discussion: """
            For each node count: starts `stellwerk server`, joins N `stellwerk-agent` processes on
            127.0.150.x, and times with the real CLI a first deploy (canary 0, max_in_flight 100%,
            min_healthy_time 0s), a no-op apply, and an upgrade to a new release in 4 waves
            (max_in_flight 25%). Prints each scenario's wall time and where it went: the CLI's plan,
            the engine (rollout created until its first node's desired state was written), pick-up
            (from then until the agent journals the first step), install (verify to start), health
            (start to running), report (running until the rollout ended), from the rollout's steps and
            the agents' journals. Needs stellwerk, stellwerk-agent and stellwerk-test-service next to
            this executable (build with `swift build -c release`).

            Example:
              swift build -c release && .build/release/stellwerk-bench rollout --nodes 1,10,30
            """)

    @Option(help: "Node counts to measure, comma-separated (1 to 250 each).") var nodes = "1,10,30"

    func validate() throws { _ = try BenchServer.nodeCounts(nodes, within: 1...250) }

    func run() async throws {
        var summary: [String] = []
        for count in try BenchServer.nodeCounts(nodes, within: 1...250) {
            let figures = try await RolloutRig(products: BenchServer.productsFolder, nodes: count).measure()
            summary.append(figures)
        }
        print("")
        for line in summary { print(line) }
    }
}

/// One orchestrator with `nodes` agents, for the time of one measurement.
private struct RolloutRig {
    let products: URL
    let nodes: Int
    let root: URL
    let port = 18_900

    init(products: URL, nodes: Int) throws {
        self.products = products
        self.nodes = nodes
        root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "stellwerk-rollout-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    func address(_ index: Int) -> String { "127.0.150.\(index)" }
    func nodeName(_ index: Int) -> String { "n\(index)" }
    func data(_ index: Int) -> URL { root.appendingPathComponent("nodes/\(nodeName(index))") }

    func measure() async throws -> String {
        defer { try? FileManager.default.removeItem(at: root) }
        let list = (1...nodes).map { "  - name: \(nodeName($0))\n    address: \(address($0))\n" }.joined()
        let server = try await BenchServer.start(products: products, root: root, site: list, port: port)
        var agents: [pid_t] = []
        defer {
            for pid in agents { kill(pid, SIGTERM) }
            for pid in agents { Spawn.waitForExit(pid) }
            server.stop()
        }
        let log = try String(contentsOf: root.appendingPathComponent("server.log"), encoding: .utf8)
        let fingerprint = String(
            log.split(separator: "\n").first { $0.hasPrefix("CA fingerprint") }?.split(separator: " ").last ?? "")

        _ = try server.stellwerk(["policy", "apply", "--env", "bench"])
        for index in 1...nodes {
            let issued = try server.stellwerk([
                "token", "create", "--env", "bench", "--site", "s", "--node", nodeName(index), "--ttl", "10m",
            ])
            let tokenFile = root.appendingPathComponent("\(nodeName(index)).token")
            try Data(issued.output.utf8).write(to: tokenFile)
            let joined = try Spawn.run(
                products.appendingPathComponent("stellwerk-agent").path,
                [
                    "join", server.url, "--token-file", tokenFile.path, "--ca-fingerprint", fingerprint, "--data",
                    data(index).path,
                ]
            ).status
            guard joined == 0 else { throw ValidationError("\(nodeName(index)) could not join") }
            agents.append(
                try Spawn.run(
                    products.appendingPathComponent("stellwerk-agent").path,
                    ["run", "--data", data(index).path, "--heartbeat", "10", "--stop-services"],
                    standardOutput: root.appendingPathComponent("\(nodeName(index)).log").path, wait: false
                ).pid)
        }
        let first = try server.release("1")
        let second = try server.release("2")
        let connection = try OrchestratorConnection(
            url: server.url, authority: try String(contentsOf: server.authority, encoding: .utf8), token: server.token)
        defer { Task { await connection.shutdown() } }
        // Every agent has reported (and so waits in its long-poll) before the clock starts.
        try await waitUntil("every agent to report", within: .seconds(60), every: .milliseconds(50)) {
            let nodes = try await connection.send(.status(environment: "bench")).environments.first?.nodes ?? []
            return nodes.count == self.nodes && nodes.allSatisfy { $0.connection == .connected }
        }
        var lines = ["\(nodes) node\(nodes == 1 ? "" : "s"):"]
        let plan = try server.stellwerk(["plan", "--env", "bench", "--release", first]).seconds
        var seq = try audit(after: 0).last?.seq ?? 0
        let deploy = try server.stellwerk(["apply", "--env", "bench", "--release", first]).seconds
        lines.append(try await describe("deploy", deploy, plan: plan, after: seq, connection))
        let noop = try server.stellwerk(["apply", "--env", "bench", "--release", first]).seconds
        lines.append("  no-op    \(Self.format(noop)) (plan, nothing to roll out)")
        try server.rollOut(maxInFlight: "25%")
        let upgradePlan = try server.stellwerk(["plan", "--env", "bench", "--release", second]).seconds
        seq = try audit(after: 0).last?.seq ?? 0
        let upgrade = try server.stellwerk(["apply", "--env", "bench", "--release", second]).seconds
        lines.append(try await describe("upgrade", upgrade, plan: upgradePlan, after: seq, connection))
        for line in lines { print(line) }
        return lines.joined(separator: "\n")
    }

    /// The server's audit log from its store, in milliseconds: (seq, at, action, detail).
    func audit(after seq: Int) throws -> [(seq: Int, at: Double, action: String, detail: String)] {
        let connection = try SQLiteConnection(
            path: root.appendingPathComponent("server/state.sqlite").path, create: false)
        defer { connection.close() }
        return try connection.execute(
            "SELECT seq, at, action, detail FROM audit_log WHERE seq > $1 ORDER BY seq", [.integer(Int64(seq))]
        ).map { (Int($0.integer(0)), Double($0.integer(1)) / 1000, $0.text(2), $0.text(3)) }
    }

    /// The scenario's wall time and where it went, from the server's audit log (when the rollout
    /// started, each wave's desired state was written, the rollout ended) and the agents' journals
    /// (when each node began, started the service, saw it healthy), all in milliseconds.
    private func describe(
        _ scenario: String, _ wall: Double, plan: Double, after seq: Int, _ connection: OrchestratorConnection
    ) async throws -> String {
        guard let rollout = try await connection.send(.rollouts(environment: "bench")).first else {
            return "  \(scenario)  \(Self.format(wall)) (no rollout)"
        }
        let entries = try audit(after: seq)
        guard let start = entries.first(where: { $0.action == "rollout.start" })?.at,
            let end = entries.last(where: { $0.action.hasPrefix("rollout.") && $0.action != "rollout.start" })?.at
        else { return "  \(scenario)  \(Self.format(wall)) (no rollout in the audit log)" }
        let writes = entries.filter { $0.action == "desired-state.write" }.map(\.at)
        var pickUp: [Double] = []
        var install: [Double] = []
        var health: [Double] = []
        var running: [Double] = []
        for index in 1...nodes {
            guard let journal = try? Self.journal(data(index).appendingPathComponent("agent.sqlite"), after: start),
                let verify = journal["verify"], let started = journal["start"], let ready = journal["running"]
            else { continue }
            let written = writes.last { $0 <= verify } ?? start
            pickUp.append(verify - written)
            install.append(started - verify)
            health.append(ready - started)
            running.append(ready)
        }
        // The engine's share: to the first wave's write, between a wave's last healthy node and the
        // next wave's write, and from the last healthy node to the rollout's end.
        var engine = (writes.first ?? start) - start
        for write in writes.dropFirst() { engine += max(0, write - (running.filter { $0 <= write }.max() ?? write)) }
        engine += max(0, end - (running.max() ?? end))
        let waves = Set(rollout.steps.map(\.wave)).count
        return
            "  \(scenario)  \(Self.format(wall)) \(rollout.state.rawValue), \(rollout.steps.count) nodes in \(waves) wave\(waves == 1 ? "" : "s"): "
            + "plan \(Self.format(plan)), engine \(Self.format(engine)), pick-up \(Self.spread(pickUp)), "
            + "install \(Self.spread(install)), health \(Self.spread(health)), "
            + "CLI after the end \(Self.format(max(0, wall - plan - (end - start))))"
    }

    /// The first time each step was journalled after `after` (seconds since 1970), by step.
    static func journal(_ file: URL, after: Double) throws -> [String: Double] {
        let connection = try SQLiteConnection(path: file.path, create: false)
        defer { connection.close() }
        var first: [String: Double] = [:]
        for row in try connection.execute(
            "SELECT step, at FROM journal WHERE at >= $1 ORDER BY seq", [.integer(Int64(after * 1000))])
        {
            let step = row.text(0)
            if first[step] == nil { first[step] = Double(row.integer(1)) / 1000 }
        }
        return first
    }

    static func format(_ seconds: Double) -> String { Measurement.duration(seconds) }

    /// Median and most of a per-node figure.
    static func spread(_ values: [Double]) -> String {
        guard !values.isEmpty else { return "-" }
        let sorted = values.sorted()
        return "\(format(sorted[sorted.count / 2])) (max \(format(sorted.last ?? 0)))"
    }
}
