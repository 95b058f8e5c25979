import Foundation
import StellwerkAPI
import TestSupport
import Testing

/// Push mode (issue #20): nodes marked `transport: ssh` cannot call out, so the orchestrator pushes
/// their desired state over SSH — real sshds on loopback, one per node — and records the reports
/// `stellwerk-agent apply` gives back. Canary, health gates and the rollback work as for pull nodes,
/// and one rollout takes push and pull nodes alike.
@Suite(.serialized) struct PushEndToEndTests {
    @Test func threePushNodes_deployAndUpgrade_andAFailingCanaryRollsBack_whileAnUnreachableOneShowsSo() async throws {
        let servers = try SSHServer.several(3, block: 60, recordingCommands: true)
        let first = servers[0]
        let prefixes = try Fixtures.temporaryFolder("stellwerk-push")
        defer {
            for pid in SecretEndToEndTests.commandLinesContaining(prefixes.path) { kill(pid, SIGTERM) }
            try? FileManager.default.removeItem(at: prefixes)
        }
        let nodes = try (0..<3).map { index in
            LocalCluster.Node(
                name: "p\(index + 1)", site: "a",
                yaml:
                    "transport: ssh\n    ssh: {port: \(servers[index].port), host_key: \"\(try servers[index].fingerprint)\", "
                    + "prefix: \(prefixes.appendingPathComponent("p\(index + 1)").path)}")
        }
        // And one pull node at another site, in the same rollouts.
        let cluster = try LocalCluster(
            block: 60, nodes: nodes + [LocalCluster.Node(name: "q4", site: "b")],
            secrets: ["a": "a-token", "b": "a-token"])
        // The orchestrator signs in with the key the three servers authorize.
        cluster.serverArguments = ["--ssh-key", first.clientKey.path, "--push-interval", "2"]
        defer { cluster.tearDown() }
        try await cluster.startServer()
        try await cluster.recordPolicies()

        // Bootstrapping a push node installs the agent binary only: nothing joins or runs there.
        let bootstrapped = try await cluster.stellwerk([
            "node", "bootstrap", "--env", "e2e", "--site", "a", "--all", "--identity", first.clientKey.path,
            "--agent-binary", ProcessRunner.productsFolder.appendingPathComponent("stellwerk-agent").path,
        ])
        #expect(bootstrapped.status == 0, "\(bootstrapped.standardOutput)\(bootstrapped.standardError)")
        #expect(bootstrapped.standardOutput.contains("All 3 nodes of a are ready (3 pushed to over SSH)."))
        #expect(SecretEndToEndTests.commandLinesContaining(prefixes.path).isEmpty)
        _ = try await cluster.join("q4", site: "b")
        try cluster.startAgent("q4")

        // The secret the service renders travels in the SSH channel: on no command line, in no file
        // but the rendered config.
        let planted = "pushed-" + UUID().uuidString
        let valueFile = prefixes.appendingPathComponent("value")
        try Data((planted + "\n").utf8).write(to: valueFile)
        let set = try await cluster.stellwerk(
            ["secret", "set", "a-token", "--env", "e2e", "--stdin"], standardInput: valueFile.path)
        #expect(set.status == 0, "\(set.standardError)")
        try FileManager.default.removeItem(at: valueFile)

        // A deploy: the canary, then the others, each pushed to and health-gated on its report.
        let v1 = try await cluster.release(version: "1")
        let watcher = CommandLineWatcher()
        let deployed = try await cluster.stellwerk(["apply", "--env", "e2e", "--release", v1, "--json"])
        let seen = watcher.stop()
        let commands = servers.flatMap(\.commands)
        #expect(commands.contains { $0.contains("stellwerk-agent apply --desired -") }, "\(commands)")
        #expect(!commands.contains { $0.contains(planted) })
        #expect(!seen.contains { $0.contains(planted) })
        #expect(deployed.status == 0, "\(deployed.standardOutput)\(deployed.standardError)")
        var status = try await cluster.status()
        let shown = try #require(status.environments.first?.nodes)
        #expect(shown.map(\.node) == ["p1", "p2", "p3", "q4"])
        for node in shown {
            #expect(node.connection == .connected, "\(node.node)")
            #expect(node.instances.map(\.release) == [v1], "\(node.node)")
            #expect(node.instances.map(\.state) == [.running], "\(node.node)")
        }
        // The services run on their nodes' addresses, started by the pushed agent, and no agent stays.
        let plain = try cluster.adminConnection(url: "http://127.0.60.3:\(cluster.servicePort)")
        #expect(try await plain.exchange(.get, "/health").status == 200)
        #expect(String(decoding: try await plain.exchange(.get, "/file").body, as: UTF8.self) == "token=\(planted)")
        await plain.shutdown()
        try Spawn.run(
            "/bin/grep", ["-rl", planted, prefixes.path],
            standardOutput: prefixes.appendingPathComponent("holding").path)
        let files = try String(contentsOf: prefixes.appendingPathComponent("holding"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        #expect(!files.isEmpty && files.allSatisfy { $0.hasSuffix("/token.conf") }, "\(files)")
        #expect(
            !SecretEndToEndTests.commandLinesContaining(prefixes.path).isEmpty,
            "the services run from the prefixes")
        for index in 1...3 {
            // Pushes come and go (`apply`); no agent runs there for good.
            let agent = prefixes.appendingPathComponent("p\(index)/bin/stellwerk-agent").path
            #expect(SecretEndToEndTests.commandLinesContaining("\(agent)\0run").isEmpty, "an agent runs on p\(index)")
        }

        // An upgrade whose health check fails: the canary fails, is rolled back, the others untouched.
        let broken = try await cluster.release(version: "2-broken", healthStatus: 500)
        let failing = try await cluster.stellwerk(["apply", "--env", "e2e", "--release", broken, "--json"])
        #expect(failing.status == 1)
        let view = try WireJSON.decoder().decode(RolloutView.self, from: Data(failing.standardOutput.utf8))
        #expect(view.state == .rolledBack, "\(view.message)")
        #expect(view.message.contains("canary failed on p1"), "\(view.message)")
        #expect(
            view.steps.map(\.state) == [.rolledBack, .notStarted, .notStarted, .notStarted],
            "\(view.steps.map(\.detail))")
        status = try await cluster.status()
        for node in try #require(status.environments.first?.nodes) {
            #expect(node.instances.map(\.release) == [v1], "\(node.node)")
            #expect(node.instances.map(\.state) == [.running], "\(node.node)")
        }

        // Pushes go where and how an admin registered them (bootstrap did, with the keys it checked),
        // whatever a plan says: registered with another prefix, p2 is pushed to there (where no agent
        // is installed) from its next push on.
        let audit = try await cluster.stellwerk(["audit", "--env", "e2e", "--json"])
        #expect(audit.standardOutput.components(separatedBy: "node.push-register").count - 1 == 3)
        let api = try cluster.adminConnection()
        defer { Task { await api.shutdown() } }
        let elsewhere = prefixes.appendingPathComponent("elsewhere").path
        let registration = PushRegistration(
            site: "a",
            target: PushTarget(
                user: first.user, host: servers[1].host, port: servers[1].port, hostKey: try servers[1].fingerprint,
                prefix: elsewhere))
        _ = try await api.send(.registerPushNode("p2", environment: "e2e", registration))
        try await cluster.waitFor("the server to push to p2 where it is registered") {
            (try String(contentsOf: cluster.serverLog, encoding: .utf8)).contains("no agent at \(elsewhere)/bin")
        }
        var bad = registration
        bad.target.prefix = "/srv/stellwerk; rm -rf /"
        await #expect(throws: (any Error).self) {
            try await api.send(.registerPushNode("p2", environment: "e2e", bad))
        }

        // A node out of reach: named on the event stream, and shown disconnected once lost_after passes.
        servers[2].crash()
        try await cluster.waitFor("the server to say it cannot reach p3") {
            (try String(contentsOf: cluster.serverLog, encoding: .utf8)).contains("push to p3 in e2e: ")
        }
        try await cluster.waitFor("p3 to show disconnected", seconds: 90) {
            try await cluster.status().environments.first?.nodes.first { $0.node == "p3" }?.connection == .disconnected
        }
        #expect(
            try await cluster.status().environments.first?.nodes.first { $0.node == "p1" }?.connection == .connected)
    }

    @Test func anSSHKeyOthersMayRead_orNone_orABadPushInterval_refusesTheStart() async throws {
        let folder = try Fixtures.temporaryFolder("stellwerk-push-key")
        defer { try? FileManager.default.removeItem(at: folder) }
        func start(_ options: [String]) async throws -> ProcessRunner.Result {
            try await ProcessRunner.run(
                "stellwerk",
                ["server", "--data", folder.appendingPathComponent("data").path, "--listen", "127.0.0.1:1"] + options)
        }
        let key = folder.appendingPathComponent("ssh_key")
        try SSHServer.makeKey(at: key)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: key.path)
        let open = try await start(["--ssh-key", key.path])
        #expect(open.status == 1)
        #expect(
            open.standardError.contains("--ssh-key \(key.path): others may read it (mode 644); chmod 600"),
            "\(open.standardError)")
        let missing = try await start(["--ssh-key", folder.appendingPathComponent("nope").path])
        #expect(missing.status == 1)
        #expect(missing.standardError.contains("nope: no such file"), "\(missing.standardError)")
        let interval = try await start(["--push-interval", "0"])
        #expect(interval.status != 0)
        #expect(interval.standardError.contains("--push-interval 0: give a number of seconds from 1 to 3600"))
    }
}
