import ArgumentParser
import Foundation
import TestSupport

/// Push mode measured end to end (issue #20): one orchestrator pushing over SSH to N nodes, each an
/// OpenSSH server of its own on a loopback address, with the real CLI, server, agent and a tiny
/// service that answers `/health` at once.
struct SSHBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ssh",
        abstract: "Measure bootstrap, deploy, no-op and a 4-batch upgrade to push nodes over SSH.",
        discussion: """
            For each node count: starts N sshds on 127.0.151.x (their host keys pinned in the site \
            file, every node `transport: ssh`) and `stellwerk server --ssh-key`, then times with the \
            real CLI `node bootstrap --all` (the agent binary to every node), a first deploy (canary 0, \
            max_in_flight 100%, min_healthy_time 0s), a no-op apply, and an upgrade to a new release in \
            4 health-gated batches (max_in_flight 25%), and reads the server's peak resident memory \
            (VmHWM). Targets for 30 nodes: deploy < 3 s, no-op < 1 s, upgrade < 5 s. Needs stellwerk, \
            stellwerk-agent and stellwerk-test-service next to this executable (build with \
            `swift build -c release`) and /usr/sbin/sshd.

            Example:
              swift build -c release && .build/release/stellwerk-bench ssh --nodes 1,10,30
            """)

    @Option(help: "Node counts to measure, comma-separated (1 to 100 each).") var nodes = "1,10,30"

    func validate() throws { _ = try BenchServer.nodeCounts(nodes, within: 1...100) }

    func run() async throws {
        var summary: [String] = []
        for count in try BenchServer.nodeCounts(nodes, within: 1...100) {
            summary.append(try await PushRig(products: BenchServer.productsFolder, nodes: count).measure())
        }
        print("")
        for line in summary { print(line) }
    }
}

/// One orchestrator and `nodes` sshds, for the time of one measurement.
private struct PushRig {
    let products: URL
    let nodes: Int
    let root: URL
    let port = 18_950

    init(products: URL, nodes: Int) throws {
        self.products = products
        self.nodes = nodes
        root = FileManager.default.temporaryDirectory.appendingPathComponent("stellwerk-ssh-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    func measure() async throws -> String {
        defer { try? FileManager.default.removeItem(at: root) }
        let servers = try SSHServer.several(nodes, block: 151)
        // The sshds end with their objects: kept to the end of the measurement.
        defer { withExtendedLifetime(servers) {} }
        let key = servers[0].clientKey
        let list = try servers.enumerated().map { index, server in
            "  - name: n\(index + 1)\n    address: \(server.host)\n    transport: ssh\n"
                + "    ssh: {port: \(server.port), host_key: \"\(try server.fingerprint)\", "
                + "prefix: \(root.appendingPathComponent("nodes/n\(index + 1)").path)}\n"
        }.joined()
        let server = try await BenchServer.start(
            products: products, root: root, site: list, port: port, arguments: ["--ssh-key", key.path])
        defer {
            // The services the pushes started run from the nodes' prefixes: ended by what they run from.
            for pid in PushRig.processes(containing: root.appendingPathComponent("nodes").path) { kill(pid, SIGTERM) }
            server.stop()
        }
        _ = try server.stellwerk(["policy", "apply", "--env", "bench"])
        let bootstrap = try server.stellwerk([
            "node", "bootstrap", "--env", "bench", "--site", "s", "--all", "--identity", key.path, "--agent-binary",
            products.appendingPathComponent("stellwerk-agent").path, "--parallel", "16",
        ]).seconds
        let first = try server.release("1")
        let second = try server.release("2")
        let deploy = try server.stellwerk(["apply", "--env", "bench", "--release", first]).seconds
        let noop = try server.stellwerk(["apply", "--env", "bench", "--release", first]).seconds
        try server.rollOut(maxInFlight: "25%")
        let upgrade = try server.stellwerk(["apply", "--env", "bench", "--release", second]).seconds
        let peak = PushRig.peakResidentMegabytes(of: server.pid)
        let line =
            "\(nodes) node\(nodes == 1 ? "" : "s") over SSH: bootstrap \(Self.format(bootstrap)), "
            + "deploy \(Self.format(deploy)), no-op \(Self.format(noop)), upgrade in 4 batches \(Self.format(upgrade)), "
            + "server peak RSS \(peak.map { "\($0) MiB" } ?? "-")"
        print(line)
        return line
    }

    /// The most resident memory the process held, from /proc (VmHWM), in MiB.
    static func peakResidentMegabytes(of pid: pid_t) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return nil }
        return kilobytes / 1024
    }

    static func processes(containing text: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return data.range(of: Data(text.utf8)) != nil
        }
    }

    static func format(_ seconds: Double) -> String { Measurement.duration(seconds) }
}
