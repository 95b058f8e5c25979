import Foundation
import StellwerkAPI
import TestSupport
import Testing

/// `stellwerk node bootstrap` over a real SSH server on loopback (issue #20): the agent is uploaded,
/// checked, joined with a token that travels over the channel, started, and reports; a second run
/// changes nothing; a host key the operator did not pin is refused before anything happens.
@Suite(.serialized) struct BootstrapEndToEndTests {
    @Test func bootstrap_installsJoinsAndStartsTheAgent_onceAndIdempotently() async throws {
        let cluster = try LocalCluster(block: 58, nodes: [LocalCluster.Node(name: "n1", site: "a")])
        let ssh = try SSHServer(host: "127.0.58.10")
        let prefix = cluster.root.appendingPathComponent("nodes/n1-over-ssh")
        defer {
            // The agent and its services were started over SSH: ended here by what they run from.
            for pid in SecretEndToEndTests.commandLinesContaining(prefix.path) { kill(pid, SIGTERM) }
            cluster.tearDown()
        }
        try await cluster.startServer()
        try await cluster.recordPolicies()
        let target = "ssh://\(ssh.user)@\(ssh.host):\(ssh.port)"
        let common = [
            "--env", "e2e", "--site", "a", "--node", "n1", "--identity", ssh.clientKey.path, "--prefix", prefix.path,
            "--agent-binary", ProcessRunner.productsFolder.appendingPathComponent("stellwerk-agent").path,
        ]

        // Not pinned, or pinned to another key: refused before anything is uploaded.
        let knownHosts = ssh.folder.appendingPathComponent("empty_known_hosts")
        try Data().write(to: knownHosts)
        let unknown = try await cluster.stellwerk(
            ["node", "bootstrap", target, "--known-hosts", knownHosts.path] + common)
        #expect(unknown.status == 1)
        #expect(
            unknown.standardError.contains("the ED25519 host key \(try ssh.fingerprint) is not in \(knownHosts.path)"),
            "\(unknown.standardError)")
        #expect(!FileManager.default.fileExists(atPath: prefix.path))

        // A prefix that is not a folder of the agent's own is refused before anything changes there.
        let shallow = try await cluster.stellwerk(
            ["node", "bootstrap", target, "--host-key", try ssh.fingerprint] + common + ["--prefix", "/opt"])
        #expect(shallow.status != 0)
        #expect(shallow.standardError.contains("give an absolute folder of its own"), "\(shallow.standardError)")
        // An orchestrator address goes into a command on the server: shell characters are refused.
        let injected = try await cluster.stellwerk(
            ["node", "bootstrap", target, "--host-key", try ssh.fingerprint] + common
                + ["--orchestrator-url", "https://x'; touch \(prefix.path)-owned; '"])
        #expect(injected.status != 0)
        #expect(injected.standardError.contains("give https://HOST[:PORT]"), "\(injected.standardError)")
        #expect(!FileManager.default.fileExists(atPath: prefix.path + "-owned"))
        let foreign = cluster.root.appendingPathComponent("someone-elses")
        try FileManager.default.createDirectory(at: foreign, withIntermediateDirectories: true)
        try Data("keep\n".utf8).write(to: foreign.appendingPathComponent("file"))
        let taken = try await cluster.stellwerk(
            ["node", "bootstrap", target, "--host-key", try ssh.fingerprint] + common + ["--prefix", foreign.path])
        #expect(taken.status == 1)
        #expect(taken.standardError.contains("exists and holds other things"), "\(taken.standardError)")
        let mode = try FileManager.default.attributesOfItem(atPath: foreign.path)[.posixPermissions] as? Int
        #expect(mode != 0o700)

        let bootstrapped = try await cluster.stellwerk(
            ["node", "bootstrap", target, "--host-key", try ssh.fingerprint] + common)
        #expect(bootstrapped.status == 0, "\(bootstrapped.standardOutput)\(bootstrapped.standardError)")
        #expect(bootstrapped.standardOutput.contains("Installed stellwerk-agent"), "\(bootstrapped.standardOutput)")
        #expect(bootstrapped.standardOutput.contains("Joined n1 to e2e (site a)."))
        #expect(bootstrapped.standardOutput.contains("n1 reports to the orchestrator."))
        #expect(try await cluster.status().environments.first?.nodes.first?.connection == .connected)
        // The token went over the channel: no command line held it, and it was redeemed once.
        let tokens = try await cluster.stellwerk(["token", "list", "--json"])
        #expect(
            tokens.standardOutput.components(separatedBy: "\"used\" : true").count - 1 == 1, "\(tokens.standardOutput)")

        // Again: nothing to upload, no new join, the agent keeps running.
        let pid = try String(contentsOf: prefix.appendingPathComponent("agent.pid"), encoding: .utf8)
        let again = try await cluster.stellwerk(
            ["node", "bootstrap", target, "--host-key", try ssh.fingerprint] + common)
        #expect(again.status == 0, "\(again.standardError)")
        #expect(again.standardOutput.contains("is installed already"), "\(again.standardOutput)")
        #expect(!again.standardOutput.contains("Joined"))
        #expect(try String(contentsOf: prefix.appendingPathComponent("agent.pid"), encoding: .utf8) == pid)
        let tokensAfter = try await cluster.stellwerk(["token", "list", "--json"])
        #expect(tokensAfter.standardOutput == tokens.standardOutput)

        // The bootstrapped agent deploys like any other.
        let release = try await cluster.release(version: "1")
        let applied = try await cluster.stellwerk(["apply", "--env", "e2e", "--release", release])
        #expect(applied.status == 0, "\(applied.standardOutput)\(applied.standardError)")
        #expect(try await cluster.status().environments.first?.nodes.first?.instances.map(\.state) == [.running])
    }
}
