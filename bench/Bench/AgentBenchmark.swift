import AgentCore
import ArgumentParser
import Artifacts
import Crypto
import Foundation
import StellwerkAPI
import TestSupport

/// The agent's cost (issue: idle RSS < 30 MB, idle CPU about 0, no-op apply < 50 ms) and the time
/// from desired state to healthy for a fresh install.
struct AgentBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Measure the agent: fresh install and no-op apply of four instances, idle RSS and CPU.",
        discussion: """
            Packs the small test service as an artifact, signs a release, and converges a node with four
            instances of it: once from scratch, then again with nothing to do (median of the runs). Then
            starts `stellwerk-agent run` supervising the four and samples its RSS and CPU while idle.

            With --connected it then runs the platform as a municipality would, through `stellwerk up
            --promote --detach` from the current workspace: four agents joined over mutual TLS, each
            long-polling its orchestrator and supervising a catalog and a portal, and samples their RSS
            and CPU once everything is healthy. That needs release builds of stellwerk, stellwerk-agent
            and datenplattform next to the benchmark, and the local platform's addresses free.

            Example:
              swift build -c release && .build/release/stellwerk-bench agent --runs 20 --idle-seconds 10 --connected
            """)

    @Option(help: "No-op applies to time (the median is reported).") var runs = 20
    @Option(help: "Seconds to sample the idle agent.") var idleSeconds = 10
    @Flag(help: "Also measure four agents connected to an orchestrator (through `stellwerk up`).")
    var connected = false

    func run() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "stellwerk-agent-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent()
        let content = root.appendingPathComponent("content/bin")
        try FileManager.default.createDirectory(at: content, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: products.appendingPathComponent("stellwerk-test-service"), to: content.appendingPathComponent("service")
        )
        let artifacts = root.appendingPathComponent("artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let tar = root.appendingPathComponent("service.tar").path
        guard
            try Spawn.run("/bin/tar", ["-cf", tar, "-C", content.deletingLastPathComponent().path, "bin"]).status == 0
        else {
            throw ValidationError("tar failed")
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: tar))
        let sha256 = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        try bytes.write(to: artifacts.appendingPathComponent("\(sha256).tar"))
        let key = Curve25519.Signing.PrivateKey()

        var instances: [InstanceSpec] = []
        for service in ["catalog", "portal", "sensors", "visualization"] {
            let port = try FreePort.find()
            let config = "service: \(service)\n"
            instances.append(
                InstanceSpec(
                    service: service, blueprint: service, release: "r1",
                    artifact: ArtifactReference(
                        component: "datenplattform", sha256: sha256, url: nil, executable: "bin/service"),
                    arguments: ["--host", "127.0.0.1", "--port", String(port)],
                    configFiles: [
                        ConfigFile(path: "\(service).yaml", mode: 0o644, content: config, sha256: "c-\(service)")
                    ],
                    configDigest: "d-\(service)", parameters: [:], ports: ["http": port],
                    health: HealthCheckSpec(
                        probe: .http(port: port, path: "/health", status: 200), intervalSeconds: 1, timeoutSeconds: 1,
                        retries: 5, startPeriodSeconds: 5),
                    migrations: nil, stopGraceSeconds: 5))
        }
        let manifest = try ReleaseSigner.sign(
            ReleaseManifest(
                id: "r1", version: "r1", revision: "bench",
                components: ["datenplattform": ComponentArtifact(sha256: sha256, size: bytes.count, migrations: [])]),
            privateKey: key.rawRepresentation)
        let desired = NodeDesiredState(
            node: "bench-1", site: "bench", environment: "sandbox", address: "127.0.0.1", instances: instances,
            releases: [manifest])
        let data = root.appendingPathComponent("data")
        let reconciler = Reconciler(
            configuration: AgentConfiguration(
                dataFolder: data, orchestratorKey: key.publicKey.rawRepresentation, artifactFolder: artifacts),
            state: try AgentState(folder: data))

        let (installed, install) = await Measurement.secondsAsync { await reconciler.apply(desired) }
        guard installed.instances.allSatisfy({ $0.state == .running }) else {
            throw ValidationError("the install failed: \(installed.instances.map { $0.lastError ?? "" })")
        }
        var noOps: [Double] = []
        for _ in 0..<max(1, runs) {
            noOps.append(await Measurement.secondsAsync { await reconciler.apply(desired) }.1)
        }
        let noOp = Measurement.median(noOps)
        print("four instances of the test service")
        print("  fresh install to healthy: \(Measurement.milliseconds(install))")
        print(
            "  no-op apply (median):     \(Measurement.milliseconds(noOp))  target < 50 ms  ratio \(String(format: "%.2f", noOp / 0.05))"
        )

        // The supervising agent, idle.
        let keyFile = root.appendingPathComponent("orchestrator.pub")
        try Data(key.publicKey.rawRepresentation.base64EncodedString().utf8).write(to: keyFile)
        let desiredFile = root.appendingPathComponent("desired.json")
        try JSONEncoder().encode(desired).write(to: desiredFile)
        let reportFile = data.appendingPathComponent("report.json").path
        try? FileManager.default.removeItem(atPath: reportFile)
        let agent = try Spawn.run(
            products.appendingPathComponent("stellwerk-agent").path,
            [
                "run", "--desired", desiredFile.path, "--data", data.path, "--orchestrator-key", keyFile.path,
                "--artifacts", artifacts.path, "--stop-services",
            ],
            wait: false
        ).pid
        // Idle means after its own (no-op) apply, which ends with the first report written.
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(60)
        while !FileManager.default.fileExists(atPath: reportFile), clock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let before = AgentProcess.cpuSeconds(agent)
        var peak = 0
        for _ in 0..<max(1, idleSeconds) {
            try await Task.sleep(for: .seconds(1))
            peak = max(peak, AgentProcess.residentBytes(agent))
        }
        let cpu = AgentProcess.cpuSeconds(agent) - before
        kill(agent, SIGTERM)
        var status: Int32 = 0
        waitpid(agent, &status, 0)
        print(
            "  idle agent RSS (peak):    \(Measurement.megabytes(peak))  target < 30 MB  ratio \(String(format: "%.2f", Double(peak) / 30_000_000))"
        )
        print(
            "  idle agent CPU:           \(String(format: "%.3f", cpu / Double(idleSeconds))) of a core (\(String(format: "%.2f", cpu)) s in \(idleSeconds) s)"
        )
        if connected { try await measureConnected(products: products, root: root) }
    }

    /// Four agents of `stellwerk up --promote`, idle after the rollout and the promotion.
    private func measureConnected(products: URL, root: URL) async throws {
        let state = root.appendingPathComponent("local")
        let stellwerk = products.appendingPathComponent("stellwerk").path
        let log = root.appendingPathComponent("up.log").path
        let up = try Spawn.run(
            stellwerk, ["up", "--promote", "--detach", "--state", state.path], standardOutput: log)
        defer { _ = try? Spawn.run(stellwerk, ["down", "--state", state.path]) }
        guard up.status == 0 else {
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw ValidationError("stellwerk up failed:\n\(output.suffix(2000))")
        }
        let processes = try JSONDecoder().decode(
            LocalProcessesFile.self, from: Data(contentsOf: state.appendingPathComponent("processes.json")))
        let agents = processes.pids.filter { $0.key.hasPrefix("agent:") }.sorted { $0.key < $1.key }
        guard agents.count == 4 else { throw ValidationError("expected four agents, found \(agents.count)") }
        // The rollout and promotion are done; give the last reports a moment before sampling.
        try await Task.sleep(for: .seconds(5))
        let before = agents.map { AgentProcess.cpuSeconds($0.value) }
        var peaks = Array(repeating: 0, count: agents.count)
        for _ in 0..<max(1, idleSeconds) {
            try await Task.sleep(for: .seconds(1))
            for (index, agent) in agents.enumerated() {
                peaks[index] = max(peaks[index], AgentProcess.residentBytes(agent.value))
            }
        }
        print("four agents connected over mutual TLS, running what stellwerk up --promote deploys")
        for (index, agent) in agents.enumerated() {
            let cpu = AgentProcess.cpuSeconds(agent.value) - before[index]
            let name = agent.key.dropFirst("agent:".count).padding(toLength: 20, withPad: " ", startingAt: 0)
            print(
                "  \(name) RSS (peak) \(Measurement.megabytes(peaks[index]))  ratio \(String(format: "%.2f", Double(peaks[index]) / 30_000_000))  CPU \(String(format: "%.3f", cpu / Double(idleSeconds))) of a core"
            )
        }
    }
}

/// The part of `stellwerk up`'s processes.json the benchmark reads.
private struct LocalProcessesFile: Decodable {
    var pids: [String: Int32]
}

extension Measurement {
    static func secondsAsync<T>(_ body: () async throws -> T) async rethrows -> (T, Double) {
        let clock = ContinuousClock()
        let start = clock.now
        let result = try await body()
        let elapsed = clock.now - start
        return (result, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}

/// Readings of another process from /proc.
enum AgentProcess {
    static func residentBytes(_ pid: pid_t) -> Int { ProcessStatus.bytes("VmRSS", of: String(pid)) ?? 0 }

    static func cpuSeconds(_ pid: pid_t) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
