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
        let ssh = try SSHServer(host: "127.0.58.10", recordingCommands: true)
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

        // The server dies during the upload: the part that arrived is kept, and the next run goes on
        // from there.
        let binary = ProcessRunner.productsFolder.appendingPathComponent("stellwerk-agent")
        let digestFile = cluster.root.appendingPathComponent("agent.sha256")
        try Spawn.run("/usr/bin/sha256sum", [binary.path], standardOutput: digestFile.path)
        let digest = String(try String(contentsOf: digestFile, encoding: .utf8).prefix(64))
        let home = String(cString: getpwuid(getuid()).pointee.pw_dir)
        let partial = "\(home)/.stellwerk-upload/n1/stellwerk-agent.\(digest.prefix(16)).partial"
        defer { try? FileManager.default.removeItem(atPath: "\(home)/.stellwerk-upload/n1") }
        func sizeOfPartial() -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: partial))?[.size] as? Int) ?? 0
        }
        let fingerprint = try ssh.fingerprint
        let interrupted = Task {
            try await cluster.stellwerk(["node", "bootstrap", target, "--host-key", fingerprint] + common)
        }
        try await whenFile(partial, growsBeyond: 1 << 20, "a part of the agent to arrive") { [ssh] in ssh.crash() }
        let broken = try await interrupted.value
        #expect(broken.status == 1)
        #expect(
            broken.standardError.contains("run it again to go on where the upload ended"), "\(broken.standardError)")
        let kept = sizeOfPartial()
        #expect(kept > 1 << 20, "\(kept)")
        try ssh.start()

        // Every process's command line on the machine, sampled while the token is made, handed over and
        // redeemed.
        let watcher = CommandLineWatcher()
        let bootstrapped = try await cluster.stellwerk(
            ["node", "bootstrap", target, "--host-key", try ssh.fingerprint] + common)
        let seen = watcher.stop()
        #expect(bootstrapped.status == 0, "\(bootstrapped.standardOutput)\(bootstrapped.standardError)")
        // The join reads its token from standard input: no command that went over the channel (the
        // server recorded each) holds one, nor any process seen meanwhile (a sample, every 2 ms, of
        // every process on the machine).
        #expect(ssh.commands.contains { $0.contains("stellwerk-agent join") && $0.contains("--token-file -") })
        #expect(!ssh.commands.contains { $0.contains("swj") }, "\(ssh.commands)")
        #expect(!seen.contains { $0.contains("swj") }, "a join token on a command line: \(seen)")
        #expect(
            bootstrapped.standardOutput.contains("Went on with the upload where it ended, at \(kept >> 20) of "),
            "\(bootstrapped.standardOutput)")
        #expect(bootstrapped.standardOutput.contains("Installed stellwerk-agent"), "\(bootstrapped.standardOutput)")
        #expect(!FileManager.default.fileExists(atPath: partial))
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

    @Test func allNodesOfASite_fromItsSiteFile_inParallel_thenARolloutInPullMode() async throws {
        // Three servers, each an sshd of its own on the node's address, one key signing in to all.
        let servers = try SSHServer.several(3, block: 59)
        let first = servers[0]
        let prefixes = try Fixtures.temporaryFolder("stellwerk-bootstrap-all")
        defer {
            for pid in SecretEndToEndTests.commandLinesContaining(prefixes.path) { kill(pid, SIGTERM) }
            try? FileManager.default.removeItem(at: prefixes)
        }
        func ssh(_ index: Int, hostKey: String) -> String {
            let prefix = prefixes.appendingPathComponent("m\(index + 1)").path
            return "ssh: {port: \(servers[index].port), host_key: \"\(hostKey)\", prefix: \(prefix)}"
        }
        let keys = try servers.map { try $0.fingerprint }
        // m3 pinned to m1's key: refused, while the others go on.
        let cluster = try LocalCluster(
            block: 59,
            nodes: (0..<3).map {
                LocalCluster.Node(name: "m\($0 + 1)", site: "a", yaml: ssh($0, hostKey: keys[$0 == 2 ? 0 : $0]))
            }, sites: ["a": "ssh: {user: \(first.user)}"])
        defer { cluster.tearDown() }
        try await cluster.startServer()
        try await cluster.recordPolicies()
        let common = [
            "node", "bootstrap", "--env", "e2e", "--site", "a", "--all", "--identity", first.clientKey.path,
            "--agent-binary", ProcessRunner.productsFolder.appendingPathComponent("stellwerk-agent").path,
        ]

        let partly = try await cluster.stellwerk(common)
        #expect(partly.status == 1, "\(partly.standardOutput)\(partly.standardError)")
        #expect(partly.standardOutput.contains("m1: Joined m1 to e2e (site a)."), "\(partly.standardOutput)")
        #expect(partly.standardOutput.contains("m2: m2 reports to the orchestrator."), "\(partly.standardOutput)")
        #expect(
            partly.standardError.contains(
                "m3: ssh://\(first.user)@127.0.59.3:\(servers[2].port): the ED25519 host key is \(keys[2]), not the pinned \(keys[0])"
            ),
            "\(partly.standardError)")
        #expect(
            partly.standardError.contains("1 of 3 nodes of a failed (m3); the others report to the orchestrator"),
            "\(partly.standardError)")
        #expect(!FileManager.default.fileExists(atPath: prefixes.appendingPathComponent("m3").path))
        let connected = try await cluster.status().environments.first?.nodes.filter { $0.connection == .connected }
        #expect(connected?.map(\.node).sorted() == ["m1", "m2"])

        // The key corrected in the site file: m3 is installed; m1 and m2 keep what they have.
        let siteFile = cluster.workspace.appendingPathComponent("Environments/e2e/sites/a.yaml")
        let corrected = try String(contentsOf: siteFile, encoding: .utf8).replacingOccurrences(
            of: ssh(2, hostKey: keys[0]), with: ssh(2, hostKey: keys[2]))
        try corrected.write(to: siteFile, atomically: true, encoding: .utf8)
        let rest = try await cluster.stellwerk(common)
        #expect(rest.status == 0, "\(rest.standardOutput)\(rest.standardError)")
        #expect(rest.standardOutput.contains("m1: stellwerk-agent"), "\(rest.standardOutput)")
        #expect(rest.standardOutput.contains("is installed already"))
        #expect(rest.standardOutput.contains("m3: Installed stellwerk-agent"))
        #expect(rest.standardOutput.contains("All 3 nodes of a report to the orchestrator."))
        #expect(rest.standardOutput.components(separatedBy: "Joined").count - 1 == 1, "\(rest.standardOutput)")

        // A rollout to the three in pull mode, as to any other agents.
        let release = try await cluster.release(version: "1")
        let applied = try await cluster.stellwerk(["apply", "--env", "e2e", "--release", release])
        #expect(applied.status == 0, "\(applied.standardOutput)\(applied.standardError)")
        let nodes = try await cluster.status().environments.first?.nodes ?? []
        #expect(nodes.map(\.node).sorted() == ["m1", "m2", "m3"])
        #expect(nodes.allSatisfy { $0.instances.map(\.state) == [.running] }, "\(nodes)")
    }

    @Test func aServerWithoutSpaceForTheAgent_isRefusedInOneLine_andNothingJoinsOrRuns() async throws {
        // A 1 MiB filesystem where the agent would live, seen only by that sshd and its sessions.
        let disk = try Fixtures.temporaryFolder("stellwerk-small-disk")
        let ssh = try SSHServer(host: "127.0.61.10", smallDisk: (disk, 1 << 20))
        let home = String(cString: getpwuid(getuid()).pointee.pw_dir)
        defer {
            try? FileManager.default.removeItem(atPath: "\(home)/.stellwerk-upload/n1")
            try? FileManager.default.removeItem(at: disk)
        }
        let cluster = try LocalCluster(block: 61, nodes: [LocalCluster.Node(name: "n1", site: "a")])
        defer { cluster.tearDown() }
        try await cluster.startServer()
        try await cluster.recordPolicies()
        let prefix = disk.appendingPathComponent("stellwerk").path
        let full = try await cluster.stellwerk([
            "node", "bootstrap", "ssh://\(ssh.user)@\(ssh.host):\(ssh.port)", "--env", "e2e", "--site", "a", "--node",
            "n1", "--host-key", try ssh.fingerprint, "--identity", ssh.clientKey.path, "--prefix", prefix,
            "--agent-binary", ProcessRunner.productsFolder.appendingPathComponent("stellwerk-agent").path,
        ])
        #expect(full.status == 1)
        let lines = full.standardError.split(separator: "\n").filter { !$0.isEmpty }
        #expect(lines.count == 1, "\(full.standardError)")
        #expect(
            full.standardError.contains("installing the agent failed")
                && full.standardError.contains("No space left on device"), "\(full.standardError)")
        // Nothing went further: no join token was made, the node never reported, nothing runs there.
        let tokens = try await cluster.stellwerk(["token", "list", "--json"])
        #expect(!tokens.standardOutput.contains("\"node\" : \"n1\""), "\(tokens.standardOutput)")
        #expect(try await cluster.status().environments.first?.nodes.contains { $0.node == "n1" } != true)
        #expect(SecretEndToEndTests.commandLinesContaining(prefix).isEmpty)
    }

    @Test(.enabled(if: TestAccount.available || ProcessInfo.processInfo.environment["CI"] == "true"))
    func aUserWithoutSudoRights_isRefusedInOneLine_andOneWithThem_bootstrapsThroughSudo() async throws {
        let refused = try SSHServer(host: "127.0.62.10", user: try TestAccount.ensure(TestAccount.withoutSudo))
        let allowed = try SSHServer(
            host: "127.0.62.11", user: try TestAccount.ensure(TestAccount.withSudo, sudo: true),
            authorizing: refused.clientKey)
        let cluster = try LocalCluster(
            block: 62, nodes: [LocalCluster.Node(name: "n1", site: "a"), LocalCluster.Node(name: "n2", site: "a")])
        let prefix = cluster.root.appendingPathComponent("nodes/over-ssh")
        defer {
            for pid in SecretEndToEndTests.commandLinesContaining(prefix.path) { kill(pid, SIGTERM) }
            cluster.tearDown()
        }
        try await cluster.startServer()
        try await cluster.recordPolicies()
        func bootstrap(_ server: SSHServer, _ node: String) async throws -> ProcessRunner.Result {
            try await cluster.stellwerk([
                "node", "bootstrap", "ssh://\(server.user)@\(server.host):\(server.port)", "--env", "e2e", "--site",
                "a", "--node", node, "--host-key", try server.fingerprint, "--identity", refused.clientKey.path,
                "--prefix", prefix.appendingPathComponent(node).path, "--agent-binary",
                ProcessRunner.productsFolder.appendingPathComponent("stellwerk-agent").path,
            ])
        }

        // Refused before anything is made on the server or a token on the orchestrator.
        let withoutSudo = try await bootstrap(refused, "n1")
        #expect(withoutSudo.status == 1)
        let lines = withoutSudo.standardError.split(separator: "\n").filter { !$0.isEmpty }
        #expect(lines.count == 1, "\(withoutSudo.standardError)")
        #expect(
            withoutSudo.standardError.contains(
                "\(TestAccount.withoutSudo) may not run commands as root without a password (sudo -n said: "),
            "\(withoutSudo.standardError)")
        #expect(
            withoutSudo.standardError.contains("\"\(TestAccount.withoutSudo) ALL=(root) NOPASSWD: ALL\""),
            "\(withoutSudo.standardError)")
        #expect(!FileManager.default.fileExists(atPath: prefix.appendingPathComponent("n1").path))
        let tokens = try await cluster.stellwerk(["token", "list", "--json"])
        #expect(!tokens.standardOutput.contains("\"node\" : \"n1\""), "\(tokens.standardOutput)")

        // Through sudo: installed root's, the upload in the user's own home, the agent running as root.
        let home = TestAccount.home(TestAccount.withSudo)
        defer { try? FileManager.default.removeItem(atPath: "\(home)/.stellwerk-upload") }
        let withSudo = try await bootstrap(allowed, "n2")
        #expect(withSudo.status == 0, "\(withSudo.standardOutput)\(withSudo.standardError)")
        #expect(withSudo.standardOutput.contains("signed in as \(TestAccount.withSudo)."), "\(withSudo.standardOutput)")
        #expect(withSudo.standardOutput.contains("n2 reports to the orchestrator."), "\(withSudo.standardOutput)")
        let agent = prefix.appendingPathComponent("n2/bin/stellwerk-agent").path
        #expect((try FileManager.default.attributesOfItem(atPath: agent)[.ownerAccountID] as? Int) == 0)
        let pid = try String(contentsOf: prefix.appendingPathComponent("n2/agent.pid"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // /proc/PID belongs to whom the process runs as.
        #expect((try FileManager.default.attributesOfItem(atPath: "/proc/\(pid)")[.ownerAccountID] as? Int) == 0)
        #expect(!FileManager.default.fileExists(atPath: "\(home)/.stellwerk-upload/n2"))
        let nodes = try await cluster.status().environments.first?.nodes ?? []
        #expect(nodes.map(\.node) == ["n2"])
    }
}

/// Samples every process's command line on the machine until stopped, from a thread of its own.
final class CommandLineWatcher: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: Set<String> = []
    private var running = true
    private let finished = DispatchSemaphore(value: 0)

    init() {
        Thread.detachNewThread { [self] in
            while lock.withLock({ running }) {
                let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
                var found: [String] = []
                for entry in entries where entry.first?.isNumber == true {
                    guard let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"), !data.isEmpty
                    else { continue }
                    found.append(String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self))
                }
                lock.withLock { lines.formUnion(found) }
                usleep(2_000)
            }
            finished.signal()
        }
    }

    /// Stops watching and returns every command line seen.
    func stop() -> Set<String> {
        lock.withLock { running = false }
        finished.wait()
        return lock.withLock { lines }
    }
}
