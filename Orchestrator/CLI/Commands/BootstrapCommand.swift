import ArgumentParser
import Artifacts
import Foundation
import Model
import OrchestratorClient
import SSHTransport
import StellwerkAPI

/// `stellwerk node bootstrap`: put the agent on municipal servers over SSH, join them and start them.
struct BootstrapNode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bootstrap",
        abstract: "Install, join and start the agent on servers over SSH (admin).",
        discussion: """
            Connects to the server (through a jump host where one is given), checks its host key (pinned \
            as `ssh: {host_key: SHA256:…}` on the node in its site file or given as --host-key, as \
            `ssh-keygen -lf` prints it on the server, or an entry in --known-hosts; an unknown key is \
            refused with its fingerprint, a changed one loudly), authenticates with an Ed25519 key \
            (--identity, or the keys of the running ssh-agent), uploads this stellwerk-agent by SFTP and \
            checks its SHA-256 on the server, creates a single-use join token and hands it to the agent \
            over the SSH channel (never on a command line or in a file), starts the agent (a systemd unit \
            where the server runs systemd, else a detached process with PREFIX/agent.pid), and waits until \
            the orchestrator sees the node report. Running it again replaces only a different agent binary \
            and restarts it; it joins again only with --rejoin. Users other than root work through `sudo -n`.

            The server's address, user, port, host key, jump host and prefix come from the node's site file \
            (`ssh:` of the node over `ssh:` of the site); an SSH-URL and options override them. With --all, \
            every node of the site is bootstrapped, several at once, with a progress line per node.

            Examples:
              stellwerk node bootstrap --env live --site kaiserslautern --node kl-live-1
              stellwerk node bootstrap --env live --site kaiserslautern --all
              stellwerk node bootstrap ssh://root@kl-live-1.example --env live --site kaiserslautern \\
                --node kl-live-1 --host-key SHA256:Rh7Ae8TATx9CWtDorNQiD0VSW7YXitqNttyIk36y/es
            """)
    @OptionGroup var connection: ServerConnectionOption
    @OptionGroup var workspace: WorkspaceOption
    @Argument(
        help: ArgumentHelp(
            "The server: ssh://USER@HOST[:PORT] (default: the node's address in its site file).", valueName: "SSH-URL"))
    var server: String?
    @Option(help: ArgumentHelp("The node's environment.", valueName: "ENV")) var env: String
    @Option(help: ArgumentHelp("The node's site.", valueName: "SITE")) var site: String
    @Option(help: ArgumentHelp("The node's name in its site file.", valueName: "NODE")) var node: String?
    @Flag(help: "Every node of the site, from its site file.") var all = false
    @Option(help: ArgumentHelp("The server's host key fingerprint, SHA256:….", valueName: "FINGERPRINT"))
    var hostKey: String?
    @Option(help: ArgumentHelp("A known_hosts file (default: ~/.ssh/known_hosts).", valueName: "FILE"))
    var knownHosts: String?
    @Option(
        help: ArgumentHelp(
            "The SSH private key, Ed25519 (default: the ssh-agent's keys where SSH_AUTH_SOCK is set, else ~/.ssh/id_ed25519).",
            valueName: "FILE"))
    var identity: String?
    @Flag(name: .customLong("ssh-agent"), help: "Sign in with the keys of the ssh-agent at $SSH_AUTH_SOCK.")
    var sshAgent = false
    @Option(help: ArgumentHelp("A jump host the server is reached through.", valueName: "SSH-URL")) var jump: String?
    @Option(help: ArgumentHelp("The jump host's key fingerprint, SHA256:….", valueName: "FINGERPRINT"))
    var jumpHostKey: String?
    @Option(help: ArgumentHelp("Where the agent lives on the server (default: /var/lib/stellwerk).", valueName: "DIR"))
    var prefix: String?
    @Option(
        help: ArgumentHelp(
            "The orchestrator's address as the server reaches it (default: --server / $STELLWERK_SERVER).",
            valueName: "URL"))
    var orchestratorURL: String?
    @Option(
        help: ArgumentHelp("The agent binary to install (default: the one next to this stellwerk).", valueName: "FILE"))
    var agentBinary: String?
    @Flag(help: "Join again with a new token, even when the node has an identity.") var rejoin = false
    @Option(help: ArgumentHelp("With --all: how many servers at once (1-64).", valueName: "N")) var parallel = 8

    func validate() throws {
        guard (node != nil) != all else { throw ValidationError("give --node NODE or --all") }
        // It names a folder on the server and goes into commands there.
        if let node, !Names.isValid(node) { throw ValidationError("--node \(node): \(Names.rule)") }
        if all, server != nil || hostKey != nil {
            throw ValidationError(
                "--all takes each node's address and host key from the site file; drop the SSH-URL and --host-key")
        }
        if let prefix, !SSHTarget.isPlainPrefix(prefix) {
            throw ValidationError(
                "--prefix \(prefix): give an absolute folder of its own, two levels deep at least (letters, digits, . _ - /)"
            )
        }
        if let orchestratorURL, !Self.isPlainURL(orchestratorURL) {
            throw ValidationError("--orchestrator-url \(orchestratorURL): give https://HOST[:PORT]")
        }
        if hostKey != nil, knownHosts != nil { throw ValidationError("give --host-key or --known-hosts, not both") }
        for (option, key) in [("--host-key", hostKey), ("--jump-host-key", jumpHostKey)] {
            if let key, !SSHTarget.isFingerprint(key) {
                throw ValidationError("\(option) \(key): give SHA256:… as `ssh-keygen -lf` prints it on the server")
            }
        }
        if let jump {
            do { _ = try SSHTarget(parsing: jump) } catch { throw ValidationError("--jump \(error)") }
        }
        if identity != nil, sshAgent { throw ValidationError("give --identity or --ssh-agent, not both") }
        guard (1...64).contains(parallel) else { throw ValidationError("--parallel must be from 1 to 64") }
    }

    func run() async throws {
        let terminal = Terminal.detect()
        let binary =
            agentBinary.map(URL.init(fileURLWithPath:))
            ?? URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("stellwerk-agent")
        guard FileManager.default.isReadableFile(atPath: binary.path) else {
            throw CLIError("\(binary.path): no agent binary to install; pass --agent-binary FILE")
        }
        let digest = try FileDigest.sha256(ofFile: binary.path)
        let servers = try resolve(binary: binary, digest: digest, terminal: terminal)
        if !all, let only = servers.first {
            try await only.run { terminal.line($0) }
            return
        }
        let board = BootstrapBoard(nodes: servers.map(\.node), terminal: terminal)
        let failures = await withTaskGroup(of: (String, String?).self) { group in
            var pending = servers[...]
            func startNext() {
                guard let next = pending.popFirst() else { return }
                group.addTask {
                    do {
                        try await next.run { board.update(next.node, $0) }
                        board.finish(next.node, failure: nil)
                        return (next.node, nil)
                    } catch {
                        board.finish(next.node, failure: "\(error)")
                        return (next.node, "\(error)")
                    }
                }
            }
            for _ in 0..<parallel { startNext() }
            var failures: [(String, String)] = []
            for await (node, failure) in group {
                if let failure { failures.append((node, failure)) }
                startNext()
            }
            return failures.sorted { NaturalOrder.less($0.0, $1.0) }
        }
        if failures.isEmpty {
            let pushed = servers.filter(\.pushed).count
            terminal.line(
                pushed == 0
                    ? "All \(servers.count) node\(servers.count == 1 ? "" : "s") of \(site) report to the orchestrator."
                    : "All \(servers.count) nodes of \(site) are ready (\(pushed) pushed to over SSH).")
            return
        }
        for (node, failure) in failures { terminal.line("\(node): \(failure)", to: .standardError) }
        throw CLIError(
            "\(failures.count) of \(servers.count) nodes of \(site) failed (\(failures.map(\.0).joined(separator: ", "))); "
                + "the others report to the orchestrator. Run it again for the failed ones: it is idempotent")
    }

    /// Each server to bootstrap, with what its site file and the options say about reaching it.
    private func resolve(binary: URL, digest: String, terminal: Terminal) throws -> [NodeBootstrap] {
        // The site file is needed for --all and for a node without an SSH-URL; otherwise it only
        // adds what it pins (a host key, a jump host), when there is a workspace at all.
        var siteDefinition: SiteDefinition?
        if all || server == nil || (try? workspace.rootURL()) != nil {
            let (loaded, _) = try workspace.load(terminal: terminal, checkingProducts: false)
            guard let environment = loaded.environments[env] else {
                throw CLIError("there is no environment \(env) in this workspace")
            }
            siteDefinition = environment.sites.first { $0.name.value == site }
            if siteDefinition == nil, all || server == nil {
                throw CLIError("environment \(env) has no site \(site)")
            }
        }
        let nodes: [NodeDefinition?]
        if all {
            nodes = siteDefinition?.nodes ?? []
            guard !nodes.isEmpty else { throw CLIError("site \(site) of \(env) has no nodes") }
        } else {
            let found = siteDefinition?.nodes.first { $0.name.value == node }
            if found == nil, server == nil || siteDefinition != nil {
                throw CLIError("site \(site) of \(env) has no node \(node ?? "")")
            }
            nodes = [found]
        }
        let home = URL(fileURLWithPath: NSHomeDirectory())
        let credentials: SSHCredentials =
            if let identity {
                .keyFile(URL(fileURLWithPath: identity))
            } else if sshAgent || !(ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"] ?? "").isEmpty {
                .agent()
            } else {
                .keyFile(home.appendingPathComponent(".ssh/id_ed25519"))
            }
        let knownHostsFile =
            knownHosts.map(URL.init(fileURLWithPath:)) ?? home.appendingPathComponent(".ssh/known_hosts")
        return try nodes.map { definition in
            let settings = definition.map { siteDefinition!.ssh(for: $0) } ?? SSHSettings()
            let name = definition?.name.value ?? node ?? ""
            let target: SSHTarget
            do {
                target =
                    try server.map { try SSHTarget(parsing: $0) }
                    ?? SSHTarget(
                        user: settings.user?.value ?? "root", host: definition?.address.value ?? "",
                        port: settings.port?.value ?? 22)
            } catch {
                throw CLIError("\(error)")
            }
            let trust: HostKeyTrust =
                if let pinned = hostKey ?? (knownHosts == nil ? settings.hostKey?.value : nil) {
                    .fingerprint(pinned)
                } else {
                    .knownHosts(knownHostsFile)
                }
            var bastion: JumpHost?
            if let address = jump ?? settings.jump?.value {
                let jumpTarget: SSHTarget
                do { jumpTarget = try SSHTarget(parsing: address) } catch { throw CLIError("\(error)") }
                let key = jumpHostKey ?? (jump == nil ? settings.jumpHostKey?.value : nil)
                bastion = JumpHost(jumpTarget, trust: key.map { .fingerprint($0) } ?? .knownHosts(knownHostsFile))
            }
            return NodeBootstrap(
                options: self, node: name, target: target, trust: trust, jump: bastion, credentials: credentials,
                prefix: prefix ?? settings.prefix?.value ?? SSHSettings.defaultPrefix, binary: binary, digest: digest,
                pushed: definition?.pushed?.value == true)
        }
    }

    /// `https://HOST[:PORT][/PATH]` without whitespace or quotes: it goes into a shell command.
    static func isPlainURL(_ text: String) -> Bool {
        text.hasPrefix("https://") && text.count > 8
            && !text.contains { $0.isWhitespace || "'\"\\`$;&|<>()".contains($0) }
    }

    func orchestrator() throws -> String {
        guard
            let url = orchestratorURL ?? connection.serverURL ?? ProcessInfo.processInfo.environment["STELLWERK_SERVER"]
        else {
            throw CLIError("no orchestrator address: pass --orchestrator-url URL (as the server reaches it)")
        }
        guard Self.isPlainURL(url) else { throw CLIError("\(url): give the orchestrator as https://HOST[:PORT]") }
        return url
    }

    func authorityPath() throws -> String {
        guard let path = connection.authorityFile ?? ProcessInfo.processInfo.environment["STELLWERK_CA"] else {
            throw CLIError("no CA certificate given: set STELLWERK_CA to the server's ca.pem (or pass --ca FILE)")
        }
        return path
    }
}

/// The progress of several bootstraps: on a terminal one line per node redrawn in place, otherwise
/// one line per step, prefixed with its node, for logs. Told from every bootstrap's task at once.
final class BootstrapBoard: @unchecked Sendable {
    private let nodes: [String]
    private let terminal: Terminal
    private let lock = NSLock()
    private var lines: [String: String] = [:]
    private var drawn = 0
    private let start = Date()

    init(nodes: [String], terminal: Terminal) {
        self.nodes = nodes
        self.terminal = terminal
        for node in nodes { lines[node] = terminal.dim("waiting") }
        if terminal.colors { draw() }
    }

    func update(_ node: String, _ line: String) {
        lock.withLock {
            guard terminal.colors else { return terminal.line("\(node): \(line)") }
            lines[node] = terminal.cyan("…") + " " + line
            draw()
        }
    }

    func finish(_ node: String, failure: String?) {
        lock.withLock {
            guard terminal.colors else {
                if let failure { terminal.line("\(node): failed: \(failure)") }
                return
            }
            lines[node] = failure.map { terminal.red("✗ failed") + " " + $0 } ?? terminal.green("✓ reports")
            draw()
        }
    }

    private func draw() {
        if drawn > 0 { terminal.write("\u{1B}[\(drawn)A\u{1B}[J") }
        let width = nodes.map(\.count).max() ?? 4
        terminal.line("Bootstrapping \(nodes.count) nodes  \(RolloutFollower.elapsed(Date().timeIntervalSince(start)))")
        for node in nodes {
            terminal.line("  \(node.padding(toLength: width, withPad: " ", startingAt: 0))  \(lines[node] ?? "")")
        }
        drawn = nodes.count + 1
    }
}
