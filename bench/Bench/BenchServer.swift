import ArgumentParser
import Foundation
import TestSupport

/// One `stellwerk server` for a benchmark over a workspace of one blueprint (`web`, the tiny test
/// service) and one environment (`bench`), and the real CLI pointed at it.
struct BenchServer {
    let products: URL
    let root: URL
    let pid: pid_t
    let url: String
    let token: String
    var workspace: URL { root.appendingPathComponent("workspace") }
    var authority: URL { root.appendingPathComponent("server/ca/ca.pem") }

    /// Where stellwerk, stellwerk-agent and the test service are: next to this executable.
    static var productsFolder: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    }

    /// The node counts `--nodes` names ("1,10,30"), each within `range`; a part that is not one is an
    /// error, not left out.
    static func nodeCounts(_ text: String, within range: ClosedRange<Int>) throws -> [Int] {
        let counts = text.split(separator: ",", omittingEmptySubsequences: false).map {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        guard counts.allSatisfy({ $0.map(range.contains) == true }) else {
            throw ValidationError(
                "--nodes \(text): give counts from \(range.lowerBound) to \(range.upperBound), such as 1,10,30")
        }
        return counts.compactMap { $0 }
    }

    /// The `web` blueprint, serving on `port` at the node's address.
    static func blueprint(port: Int) -> String {
        """
        name: web
        description: The benchmark's service.
        component:
          product: stellwerk-test-service
          args: [--host, "{{ node.address }}", --port, "{{ param.port }}"]
        parameters:
          port:
            type: port
            default: \(port)
        health:
          http: {port: http, path: /health}
          interval: 1s
          timeout: 1s
          retries: 2
        ports:
          http: port

        """
    }

    /// The `bench` environment: canary 0, no soak, `maxInFlight` nodes at once.
    static func environmentFile(maxInFlight: String) -> String {
        """
        name: bench
        description: A benchmark.
        rollout:
          canary: 0
          max_in_flight: \(maxInFlight)
          min_healthy_time: 0s
          healthy_deadline: 60s
          progress_deadline: 5m
          auto_rollback: false
          lost_after: 60s
          on_disconnected: wait

        """
    }

    /// Writes the workspace (`site` is the site file's node list and services) and starts the server.
    static func start(
        products: URL, root: URL, site: String, port: Int, arguments: [String] = []
    ) async throws
        -> BenchServer
    {
        try Fixtures.write(
            [
                "Blueprints/web.yaml": blueprint(port: port),
                "Environments/bench/environment.yaml": environmentFile(maxInFlight: "100%"),
                "Environments/bench/sites/s.yaml":
                    "name: s\ndisplay_name: Benchmark\nnodes:\n\(site)services:\n  web: {}\n",
            ], under: root.appendingPathComponent("workspace"))
        let portFile = root.appendingPathComponent("port")
        let pid = try Spawn.run(
            products.appendingPathComponent("stellwerk").path,
            [
                "server", "--data", root.appendingPathComponent("server").path, "--listen", "127.0.0.1:0",
                "--port-file", portFile.path, "--admin-token-file", root.appendingPathComponent("admin").path,
            ] + arguments, standardOutput: root.appendingPathComponent("server.log").path, wait: false
        ).pid
        do {
            try await waitUntil("the server to listen", within: .seconds(60), every: .milliseconds(50)) {
                FileManager.default.fileExists(atPath: portFile.path)
            }
        } catch {
            kill(pid, SIGTERM)
            Spawn.waitForExit(pid)
            let log = (try? String(contentsOf: root.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
            throw ValidationError("the server did not start: \(log.suffix(2000))")
        }
        let port = try String(contentsOf: portFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let token = try String(contentsOf: root.appendingPathComponent("admin"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return BenchServer(products: products, root: root, pid: pid, url: "https://127.0.0.1:\(port)", token: token)
    }

    func stop() {
        kill(pid, SIGTERM)
        Spawn.waitForExit(pid)
    }

    /// Runs `stellwerk` in the workspace against this server; its output and how long it took.
    func stellwerk(_ arguments: [String]) throws -> (output: String, seconds: Double) {
        let output = root.appendingPathComponent("cli.out")
        let errors = root.appendingPathComponent("cli.err")
        try? FileManager.default.removeItem(at: output)
        try? FileManager.default.removeItem(at: errors)
        let (status, seconds) = try Measurement.seconds {
            try Spawn.run(
                products.appendingPathComponent("stellwerk").path, arguments,
                environment: ["STELLWERK_SERVER": url, "STELLWERK_TOKEN": token, "STELLWERK_CA": authority.path],
                directory: workspace.path, standardOutput: output.path, standardError: errors.path
            ).status
        }
        guard status == 0 else {
            throw ValidationError(
                "stellwerk \(arguments.joined(separator: " ")) failed: "
                    + ((try? String(contentsOf: errors, encoding: .utf8)) ?? ""))
        }
        return ((try? String(contentsOf: output, encoding: .utf8)) ?? "", seconds)
    }

    /// A release of the test service, with `version` in its archive so each is a new artifact.
    func release(_ version: String) throws -> String {
        let content = root.appendingPathComponent("release-\(version)")
        try FileManager.default.createDirectory(at: content, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: products.appendingPathComponent("stellwerk-test-service"),
            to: content.appendingPathComponent("stellwerk-test-service"))
        try Data(version.utf8).write(to: content.appendingPathComponent("VERSION"))
        let tar = root.appendingPathComponent("release-\(version).tar")
        guard
            try Spawn.run("/bin/tar", ["-cf", tar.path, "-C", content.path, "stellwerk-test-service", "VERSION"])
                .status == 0
        else { throw ValidationError("tar failed") }
        return try stellwerk([
            "release", "create", "--version", version, "--artifact", "stellwerk-test-service=\(tar.path)",
        ]).output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Switches the environment to `maxInFlight` nodes at once and records the policy.
    func rollOut(maxInFlight: String) throws {
        try Data(Self.environmentFile(maxInFlight: maxInFlight).utf8).write(
            to: workspace.appendingPathComponent("Environments/bench/environment.yaml"))
        _ = try stellwerk(["policy", "apply", "--env", "bench"])
    }
}
