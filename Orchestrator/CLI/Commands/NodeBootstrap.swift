import Artifacts
import Foundation
import Identity
import OrchestratorClient
import SSHTransport
import StellwerkAPI

/// One server's bootstrap: connect, install the agent, join it once, start it, wait for its report.
/// `say` is told each step as it happens (a line of its own, or the node's progress line).
struct NodeBootstrap: Sendable {
    let options: BootstrapNode
    let node: String
    let target: SSHTarget
    let trust: HostKeyTrust
    let jump: JumpHost?
    let credentials: SSHCredentials
    let prefix: String
    let binary: URL
    let digest: String
    /// `transport: ssh`: the orchestrator pushes to the node, so no agent joins or runs there.
    var pushed = false

    var env: String { options.env }
    var site: String { options.site }
    var rejoin: Bool { options.rejoin }

    func run(say: @Sendable (String) -> Void) async throws {
        let ssh: SSHConnection
        do {
            ssh = try await SSHConnection.open(target, trust: trust, credentials: credentials, jump: jump)
        } catch {
            throw CLIError("\(error)")
        }
        say(
            "\(target)\(jump.map { " through \($0.target)" } ?? ""): host key \(ssh.hostKey) checked, signed in as "
                + "\(target.user).")
        do {
            try await install(over: ssh, say: say)
            await ssh.close()
        } catch {
            await ssh.close()
            throw error
        }
    }

    /// Everything after signing in.
    private func install(over ssh: SSHConnection, say: @Sendable (String) -> Void) async throws {
        let sudo: String
        do {
            sudo = try await ssh.rootPrefix()
        } catch {
            throw CLIError("\(error)")
        }
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

        // A folder of the agent's own: never one that holds something else (chmod 700 on /opt would
        // hurt). Ours is marked when made, so a bootstrap broken off before the binary was in place
        // can be run again.
        let foreign = try await remote(
            "\(sudo)sh -c 'test -d \(prefix) && ! test -e \(prefix)/bin/stellwerk-agent && ! test -e \(prefix)/.stellwerk "
                + "&& test -n \"$(ls -A \(prefix))\" && echo yes || echo no'", what: "looking at \(prefix)")
        guard foreign == "no" else {
            throw CLIError(
                "\(target): \(prefix) exists and holds other things; give --prefix a folder of the agent's own")
        }

        // The binary: uploaded only when it differs, and checked on the server after the upload.
        let installed = try await remote(
            "\(sudo)mkdir -p \(quoted)/bin && \(sudo)chmod 700 \(quoted) && \(sudo)touch \(quoted)/.stellwerk && "
                + "(\(sudo)sha256sum \(agent) 2>/dev/null || true) | cut -d' ' -f1", what: "looking at \(prefix)")
        let replaced = installed != digest
        if replaced {
            // A folder of the login user's own (SFTP writes as that user, not through sudo) where a
            // broken upload of this binary is kept and continued next time; older leftovers go.
            let scratch = try await remote(
                "umask 077 && mkdir -p .stellwerk-upload/\(node) && cd .stellwerk-upload/\(node) && "
                    + "find . -name '*.partial' ! -name 'stellwerk-agent.\(digest.prefix(16)).partial' -delete && pwd",
                what: "making a folder for the upload")
            let upload: SSHConnection.Upload
            do {
                upload = try await ssh.upload(
                    binary, to: "\(scratch)/stellwerk-agent", mode: 0o755, digest: digest)
            } catch {
                throw CLIError("\(error); run it again to go on where the upload ended")
            }
            if upload.resumedAt > 0 {
                say(
                    "Went on with the upload where it ended, at \(upload.resumedAt >> 20) of \((upload.resumedAt + upload.sent) >> 20) MiB."
                )
            }
            _ = try await remote(
                "\(sudo)install -m 0755 \((scratch + "/stellwerk-agent").shellQuoted) \(agent) && rm -rf \(scratch.shellQuoted) && "
                    + "(rmdir .stellwerk-upload 2>/dev/null; true)",
                what: "installing the agent")
            let arrived = try await remote("\(sudo)sha256sum \(agent) | cut -d' ' -f1", what: "checking the agent")
            guard arrived == digest else {
                throw CLIError("\(target): the agent arrived as \(arrived), not \(digest); nothing was started")
            }
            say("Installed stellwerk-agent \(digest.prefix(12)) at \(prefix)/bin.")
        } else {
            say("stellwerk-agent \(digest.prefix(12)) is installed already.")
        }

        let systemd =
            try await remote("test -d /run/systemd/system && echo yes || echo no", what: "looking for systemd") == "yes"
        if pushed {
            // No agent of its own there any more (a node that was a pull node), and the orchestrator
            // told where to push: the registration carries the host key checked just now.
            if systemd {
                _ = try await remote(
                    "\(sudo)systemctl disable --now stellwerk-agent >/dev/null 2>&1; true", what: "stopping the agent")
            } else {
                try await stopAgent(remote, sudo: sudo, systemd: false)
            }
            let registered = PushTarget(
                user: target.user, host: target.host, port: target.port, hostKey: ssh.hostKey,
                jump: jump?.target.description, jumpHostKey: ssh.jumpHostKey, prefix: prefix)
            _ = try await options.connection.with { server in
                try await server.send(
                    .registerPushNode(node, environment: env, PushRegistration(site: site, target: registered)))
            }
            say("\(node) is pushed to over SSH: no agent runs there; the orchestrator pushes its state.")
            return
        }

        // Joining, once (or again when asked): the token goes over the channel's standard input.
        let data = "\(quoted)/data"
        let joined = try await remote(
            "\(sudo)test -f \(data)/identity/node.pem && echo yes || echo no", what: "looking for an identity")
        let joins = joined == "no" || rejoin
        if joins {
            // Everything the join needs first: a failure here leaves the node as it was.
            let url = try options.orchestrator()
            let authority = try String(contentsOfFile: try options.authorityPath(), encoding: .utf8)
            let fingerprint = try CertificateFingerprint.of(pem: authority)
            let token = try await options.connection.with { server in
                try await server.send(
                    .createJoinToken(JoinTokenRequest(environment: env, site: site, node: node, ttlSeconds: 600)))
            }
            try await stopAgent(remote, sudo: sudo, systemd: systemd)
            if joined == "yes" { _ = try await remote("\(sudo)rm -rf \(data)/identity", what: "removing the identity") }
            _ = try await remote(
                "\(sudo)\(agent) join '\(url)' --token-file - --ca-fingerprint \(fingerprint) --data \(data)",
                input: Data((token.token + "\n").utf8), what: "joining")
            say("Joined \(node) to \(env) (site \(site)).")
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
        try await options.connection.with { server in
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
        say("\(node) reports to the orchestrator.")
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

}
