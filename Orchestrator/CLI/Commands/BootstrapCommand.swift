import ArgumentParser
import Artifacts
import Foundation
import Identity
import OrchestratorClient
import SSHTransport
import StellwerkAPI

/// `stellwerk node bootstrap`: put the agent on a municipal server over SSH, join it and start it.
struct BootstrapNode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bootstrap",
        abstract: "Install, join and start the agent on a server over SSH (admin).",
        discussion: """
            Connects to the server, checks its host key (--host-key SHA256:… as `ssh-keygen -lf` \
            prints it on the server, or an entry in --known-hosts; an unknown key is refused with its \
            fingerprint, a changed one loudly), authenticates with an Ed25519 key, uploads this \
            stellwerk-agent by SFTP and checks its SHA-256 on the server, creates a single-use join \
            token and hands it to the agent over the SSH channel (never on a command line or in a \
            file), starts the agent (a systemd unit where the server runs systemd, else a detached \
            process with PREFIX/agent.pid), and waits until the orchestrator sees the node report. \
            Running it again replaces only a different agent binary and restarts it; it joins again \
            only with --rejoin. Users other than root work through `sudo -n`.

            Example:
              stellwerk node bootstrap ssh://root@kl-live-1.example --env live --site kaiserslautern \\
                --node kl-live-1 --host-key SHA256:Rh7Ae8TATx9CWtDorNQiD0VSW7YXitqNttyIk36y/es
            """)
    @OptionGroup var connection: ServerConnectionOption
    @Argument(help: ArgumentHelp("The server: ssh://USER@HOST[:PORT].", valueName: "SSH-URL")) var server: String
    @Option(help: ArgumentHelp("The node's environment.", valueName: "ENV")) var env: String
    @Option(help: ArgumentHelp("The node's site.", valueName: "SITE")) var site: String
    @Option(help: ArgumentHelp("The node's name in its site file.", valueName: "NODE")) var node: String
    @Option(help: ArgumentHelp("The server's host key fingerprint, SHA256:….", valueName: "FINGERPRINT"))
    var hostKey: String?
    @Option(help: ArgumentHelp("A known_hosts file (default: ~/.ssh/known_hosts).", valueName: "FILE"))
    var knownHosts: String?
    @Option(help: ArgumentHelp("The SSH private key, Ed25519 (default: ~/.ssh/id_ed25519).", valueName: "FILE"))
    var identity: String?
    @Option(help: ArgumentHelp("Where the agent lives on the server.", valueName: "DIR"))
    var prefix = "/var/lib/stellwerk"
    @Option(
        help: ArgumentHelp(
            "The orchestrator's address as the server reaches it (default: --server / $STELLWERK_SERVER).",
            valueName: "URL"))
    var orchestratorURL: String?
    @Option(
        help: ArgumentHelp("The agent binary to install (default: the one next to this stellwerk).", valueName: "FILE"))
    var agentBinary: String?
    @Flag(help: "Join again with a new token, even when the node has an identity.") var rejoin = false

    func validate() throws {
        // It goes into shell commands and a systemd unit: plain path characters only.
        let plain = prefix.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                || "._/-".unicodeScalars.contains($0)
        }
        guard prefix.hasPrefix("/"), prefix.split(separator: "/").count >= 2, plain,
            !prefix.split(separator: "/").contains("..")
        else {
            throw ValidationError(
                "--prefix \(prefix): give an absolute folder of its own, two levels deep at least (letters, digits, . _ - /)"
            )
        }
        if let orchestratorURL, !Self.isPlainURL(orchestratorURL) {
            throw ValidationError("--orchestrator-url \(orchestratorURL): give https://HOST[:PORT]")
        }
        if hostKey != nil, knownHosts != nil { throw ValidationError("give --host-key or --known-hosts, not both") }
    }

    func run() async throws {
        let terminal = Terminal.detect()
        let target: SSHTarget
        do { target = try SSHTarget(parsing: server) } catch { throw CLIError("\(error)") }
        let home = URL(fileURLWithPath: NSHomeDirectory())
        let trust: HostKeyTrust =
            hostKey.map { .fingerprint($0) }
            ?? .knownHosts(
                knownHosts.map(URL.init(fileURLWithPath:)) ?? home.appendingPathComponent(".ssh/known_hosts"))
        let key = identity.map(URL.init(fileURLWithPath:)) ?? home.appendingPathComponent(".ssh/id_ed25519")
        let binary =
            agentBinary.map(URL.init(fileURLWithPath:))
            ?? URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("stellwerk-agent")
        guard FileManager.default.isReadableFile(atPath: binary.path) else {
            throw CLIError("\(binary.path): no agent binary to install; pass --agent-binary FILE")
        }
        let digest = try FileDigest.sha256(ofFile: binary.path)

        let ssh: SSHConnection
        do {
            ssh = try await SSHConnection.open(target, trust: trust, privateKey: key)
        } catch {
            throw CLIError("\(error)")
        }
        terminal.line("\(target): host key \(ssh.hostKey) checked, signed in as \(target.user).")
        let sudo = target.user == "root" ? "" : "sudo -n "
        func remote(_ command: String, input: Data? = nil, what: String) async throws -> String {
            let output: SSHConnection.Output
            do {
                output = try await ssh.run(command, input: input)
            } catch {
                throw CLIError("\(error)")
            }
            guard output.status == 0 else {
                throw CLIError(
                    "\(target): \(what) failed (exit \(output.status)): "
                        + output.standardError.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            return output.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let quoted = "'\(prefix)'"
        let agent = "\(quoted)/bin/stellwerk-agent"

        // The same kind of machine: an agent built for another would not start there.
        var local = utsname()
        uname(&local)
        let machine = withUnsafeBytes(of: local.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let theirs = try await remote("uname -sm", what: "asking what the server is")
        guard theirs == "Linux \(machine)" else {
            throw CLIError("\(target) is \(theirs); this stellwerk-agent is built for Linux \(machine)")
        }

        // A folder of the agent's own: never one that holds something else (chmod 700 on /opt would hurt).
        let foreign = try await remote(
            "\(sudo)sh -c 'test -d \(prefix) && ! test -e \(prefix)/bin/stellwerk-agent "
                + "&& test -n \"$(ls -A \(prefix))\" && echo yes || echo no'", what: "looking at \(prefix)")
        guard foreign == "no" else {
            throw CLIError(
                "\(target): \(prefix) exists and holds other things; give --prefix a folder of the agent's own")
        }

        // The binary: uploaded only when it differs, and checked on the server after the upload.
        let installed = try await remote(
            "\(sudo)mkdir -p \(quoted)/bin && \(sudo)chmod 700 \(quoted) && "
                + "(\(sudo)sha256sum \(agent) 2>/dev/null || true) | cut -d' ' -f1", what: "looking at \(prefix)")
        let replaced = installed != digest
        if replaced {
            let scratch = try await remote("mktemp -d", what: "making a folder for the upload")
            do {
                try await ssh.upload(binary, to: "\(scratch)/stellwerk-agent", mode: 0o755)
            } catch {
                throw CLIError("\(error)")
            }
            _ = try await remote(
                "\(sudo)install -m 0755 '\(scratch)/stellwerk-agent' \(agent) && rm -rf '\(scratch)'",
                what: "installing the agent")
            let arrived = try await remote("\(sudo)sha256sum \(agent) | cut -d' ' -f1", what: "checking the agent")
            guard arrived == digest else {
                throw CLIError("\(target): the agent arrived as \(arrived), not \(digest); nothing was started")
            }
            terminal.line("Installed stellwerk-agent \(digest.prefix(12)) at \(prefix)/bin.")
        } else {
            terminal.line("stellwerk-agent \(digest.prefix(12)) is installed already.")
        }

        // Joining, once (or again when asked): the token goes over the channel's standard input.
        let data = "\(quoted)/data"
        let joined = try await remote(
            "\(sudo)test -f \(data)/identity/node.pem && echo yes || echo no", what: "looking for an identity")
        let joins = joined == "no" || rejoin
        let systemd =
            try await remote("test -d /run/systemd/system && echo yes || echo no", what: "looking for systemd") == "yes"
        if joins {
            // Everything the join needs first: a failure here leaves the node as it was.
            let url = try orchestrator()
            let authority = try String(contentsOfFile: try authorityPath(), encoding: .utf8)
            let fingerprint = try CertificateFingerprint.of(pem: authority)
            let token = try await connection.with { server in
                try await server.send(
                    .createJoinToken(JoinTokenRequest(environment: env, site: site, node: node, ttlSeconds: 600)))
            }
            try await stopAgent(remote, sudo: sudo, systemd: systemd)
            if joined == "yes" { _ = try await remote("\(sudo)rm -rf \(data)/identity", what: "removing the identity") }
            _ = try await remote(
                "\(sudo)\(agent) join '\(url)' --token-file - --ca-fingerprint \(fingerprint) --data \(data)",
                input: Data((token.token + "\n").utf8), what: "joining")
            terminal.line("Joined \(node) to \(env) (site \(site)).")
        }

        // Running: under systemd where there is one, else a detached process with a PID file.
        let starting = Date()
        if systemd {
            let unit = """
                [Unit]
                Description=Stellwerk agent
                After=network-online.target

                [Service]
                ExecStart=\(prefix)/bin/stellwerk-agent run --data \(prefix)/data
                Restart=always
                RestartSec=5

                [Install]
                WantedBy=multi-user.target

                """
            _ = try await remote(
                "\(sudo)tee /etc/systemd/system/stellwerk-agent.service >/dev/null && \(sudo)systemctl daemon-reload "
                    + "&& \(sudo)systemctl enable stellwerk-agent >/dev/null 2>&1 && "
                    + "\(sudo)systemctl \(replaced || joins ? "restart" : "start") stellwerk-agent",
                input: Data(unit.utf8), what: "starting the agent's systemd unit")
        } else {
            if replaced && !joins { try await stopAgent(remote, sudo: sudo, systemd: false) }
            // The whole script as the agent's user (root, or through sudo): the folder is 0700.
            let script = """
                cd \(prefix) || exit 1
                if test -f agent.pid && tr '\\0' ' ' < "/proc/$(cat agent.pid)/cmdline" 2>/dev/null | grep -q stellwerk-agent
                then exit 0; fi
                setsid nohup \(prefix)/bin/stellwerk-agent run --data \(prefix)/data >> agent.log 2>&1 < /dev/null &
                echo $! > agent.pid

                """
            _ = try await remote("\(sudo)sh -s", input: Data(script.utf8), what: "starting the agent")
        }

        // Done when the orchestrator hears from it after the start (joining alone marks a node seen).
        try await connection.with { server in
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                let status = try await server.send(.status(environment: env))
                if let seen = status.environments.first?.nodes.first(where: { $0.node == node }),
                    seen.connection == .connected, (seen.lastSeen ?? .distantPast) > starting.addingTimeInterval(-1)
                {
                    return
                }
                try await Task.sleep(for: .milliseconds(250))
            }
            throw CLIError(
                "\(node) did not report within 60 s; see \(prefix)/agent.log on the server (or journalctl -u stellwerk-agent)"
            )
        }
        terminal.line("\(node) reports to the orchestrator.")
    }

    /// Stops the agent: its systemd unit, or the process this command started, by its PID file once
    /// sure the PID is still the agent's — and waits until it is gone.
    private func stopAgent(
        _ remote: (String, Data?, String) async throws -> String, sudo: String, systemd: Bool
    ) async throws {
        if systemd {
            _ = try await remote("\(sudo)systemctl stop stellwerk-agent 2>/dev/null; true", nil, "stopping the agent")
            return
        }
        let script = """
            cd \(prefix) 2>/dev/null || exit 0
            test -f agent.pid || exit 0
            pid=$(cat agent.pid)
            if tr '\\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q stellwerk-agent; then
              kill "$pid"
              i=0
              while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
            fi
            rm -f agent.pid

            """
        _ = try await remote("\(sudo)sh -s", Data(script.utf8), "stopping the agent")
    }

    /// `https://HOST[:PORT][/PATH]` without whitespace or quotes: it goes into a shell command.
    static func isPlainURL(_ text: String) -> Bool {
        text.hasPrefix("https://") && text.count > 8
            && !text.contains { $0.isWhitespace || "'\"\\`$;&|<>()".contains($0) }
    }

    private func orchestrator() throws -> String {
        guard
            let url = orchestratorURL ?? connection.serverURL ?? ProcessInfo.processInfo.environment["STELLWERK_SERVER"]
        else {
            throw CLIError("no orchestrator address: pass --orchestrator-url URL (as the server reaches it)")
        }
        guard Self.isPlainURL(url) else { throw CLIError("\(url): give the orchestrator as https://HOST[:PORT]") }
        return url
    }

    private func authorityPath() throws -> String {
        guard let path = connection.authorityFile ?? ProcessInfo.processInfo.environment["STELLWERK_CA"] else {
            throw CLIError("no CA certificate given: set STELLWERK_CA to the server's ca.pem (or pass --ca FILE)")
        }
        return path
    }
}
