import Foundation
import SSHTransport
import StellwerkAPI
import TestSupport
import Testing

/// SSH through libssh2 against a real OpenSSH server on loopback (issue #20, first step): the host key
/// is checked before anything else, by a pinned fingerprint or a known_hosts file, never trusted on
/// first use; key authentication; commands with their output and status; SFTP uploads put in place
/// whole.
@Suite(.serialized) struct SSHConnectionTests {
    let server: SSHServer
    let target: SSHTarget

    init() throws {
        server = try SSHServer(host: "127.0.57.1")
        target = SSHTarget(user: server.user, host: server.host, port: server.port)
    }

    @Test func pinnedKey_commandsRun_withOutputErrorAndStatus() async throws {
        let connection = try await SSHConnection.open(
            target, trust: .fingerprint(try server.fingerprint), privateKey: server.clientKey)
        #expect(connection.hostKey == (try server.fingerprint))
        let output = try await connection.run("echo hallo; echo fehler >&2; exit 3")
        #expect(output.standardOutput == "hallo\n")
        #expect(output.standardError == "fehler\n")
        #expect(output.status == 3)
        let input = try await connection.run("wc -c", input: Data(repeating: 0x61, count: 100_000))
        #expect(input.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == "100000")
    }

    @Test func anUnknownOrChangedKey_isRefused_sayingWhichAndHowToTrustIt() async throws {
        let fingerprint = try server.fingerprint
        let pinned = "SHA256:" + String(repeating: "A", count: 43)
        await #expect {
            _ = try await SSHConnection.open(target, trust: .fingerprint(pinned), privateKey: server.clientKey)
        } throws: { error in
            "\(error)".contains("the ED25519 host key is \(fingerprint), not the pinned \(pinned); refused")
        }

        let knownHosts = server.folder.appendingPathComponent("known_hosts")
        try Data().write(to: knownHosts)
        await #expect {
            _ = try await SSHConnection.open(target, trust: .knownHosts(knownHosts), privateKey: server.clientKey)
        } throws: { error in
            "\(error)".contains(
                "the ED25519 host key \(fingerprint) is not in \(knownHosts.path); refused (no trust on first use)")
                && "\(error)".contains("pin it as `ssh: {host_key: \(fingerprint)}` on the node in its site file")
                && "\(error)".contains("or pass --host-key \(fingerprint)")
        }

        // Another key for this host and port: loudly refused, with the way to replace the entry.
        let other = server.folder.appendingPathComponent("other")
        try SSHServer.makeKey(at: other)
        let otherKey = try String(contentsOf: other.appendingPathExtension("pub"), encoding: .utf8)
            .split(separator: " ").prefix(2).joined(separator: " ")
        try Data("[\(server.host)]:\(server.port) \(otherKey)\n".utf8).write(to: knownHosts)
        await #expect {
            _ = try await SSHConnection.open(target, trust: .knownHosts(knownHosts), privateKey: server.clientKey)
        } throws: { error in
            "\(error)".contains("THE HOST KEY CHANGED")
                && "\(error)".contains("ssh-keygen -R [\(server.host)]:\(server.port)")
        }

        try Data(try server.knownHostsLine.utf8).write(to: knownHosts)
        let connection = try await SSHConnection.open(
            target, trust: .knownHosts(knownHosts), privateKey: server.clientKey)
        #expect(try await connection.run("true").status == 0)
        // Nothing was authenticated for the refused ones: the server saw no login attempt for them.
        #expect(server.log.components(separatedBy: "Accepted publickey").count - 1 == 1, "\(server.log)")
    }

    @Test func aKeyTheServerDoesNotKnow_andAPortNobodyListensOn_areRefusedClearly() async throws {
        let stranger = server.folder.appendingPathComponent("stranger")
        try SSHServer.makeKey(at: stranger)
        await #expect {
            _ = try await SSHConnection.open(target, trust: .fingerprint(try server.fingerprint), privateKey: stranger)
        } throws: { error in
            "\(error)".contains("the server did not accept the key \(stranger.path) for \(server.user)")
        }
        let closed = SSHTarget(user: server.user, host: server.host, port: try FreePort.find(host: server.host))
        await #expect {
            _ = try await SSHConnection.open(
                closed, trust: .fingerprint(try server.fingerprint), privateKey: server.clientKey, timeout: .seconds(5))
        } throws: { error in
            "\(error)".contains("cannot connect: Connection refused")
        }
    }

    @Test func uploads_arrivedWhole_withTheirMode_andTheirDigest() async throws {
        let connection = try await SSHConnection.open(
            target, trust: .fingerprint(try server.fingerprint), privateKey: server.clientKey)
        let file = server.folder.appendingPathComponent("agent-binary")
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(bytes).write(to: file)
        let remote = server.folder.appendingPathComponent("uploaded").path
        try await connection.upload(file, to: remote, mode: 0o750)
        let local = try await connection.run("sha256sum \(remote) | cut -d' ' -f1; stat -c %a \(remote)")
        let expected = try await connection.run("sha256sum \(file.path) | cut -d' ' -f1")
        let lines = local.standardOutput.split(separator: "\n")
        #expect(lines.first.map(String.init) == expected.standardOutput.trimmingCharacters(in: .newlines))
        #expect(lines.last == "750")
        #expect(!FileManager.default.fileExists(atPath: remote + ".stellwerk-partial"))
    }

    @Test func aCommandSilentPastItsLimit_fails_andAQuietOneWithinIt_succeeds() async throws {
        let connection = try await SSHConnection.open(
            target, trust: .fingerprint(try server.fingerprint), privateKey: server.clientKey)
        await #expect {
            _ = try await connection.run("sleep 30", silence: .seconds(1))
        } throws: { error in
            "\(error)".contains("the server sent nothing for 1 s")
        }
        // Longer than the handshake's limit would allow, within the command's own.
        let quiet = try await SSHConnection.open(
            target, trust: .fingerprint(try server.fingerprint), privateKey: server.clientKey, timeout: .seconds(4))
        let output = try await quiet.run("sleep 6; echo done", silence: .seconds(60))
        #expect(output.status == 0)
        #expect(output.standardOutput == "done\n")
    }

    @Test func throughAJumpHost_theServerIsReached_andAJumpHostThatRefusesOrIsUnknownIsNamed() async throws {
        let jump = try SSHServer(host: "127.0.57.2", configuration: ["LogLevel DEBUG1"], authorizing: server.clientKey)
        let bastion = SSHTarget(user: jump.user, host: jump.host, port: jump.port)
        let connection = try await SSHConnection.open(
            target, trust: .fingerprint(try server.fingerprint), credentials: .keyFile(server.clientKey),
            jump: JumpHost(bastion, trust: .fingerprint(try jump.fingerprint)))
        #expect(connection.hostKey == (try server.fingerprint))
        #expect(try await connection.run("echo through").standardOutput == "through\n")
        // Enough bytes both ways to fill every buffer on the path: an upload, and output read back.
        let file = server.folder.appendingPathComponent("through-the-jump")
        try Data((0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: file)
        let remote = server.folder.appendingPathComponent("arrived-through-the-jump").path
        try await connection.upload(file, to: remote)
        let sums = try await connection.run("sha256sum \(file.path) \(remote) | cut -d' ' -f1 | uniq | wc -l")
        #expect(sums.standardOutput == "1\n")
        let echoed = try await connection.run("base64 -w0 \(remote)", limit: 5_000_000)
        #expect(Data(base64Encoded: echoed.standardOutput) == (try Data(contentsOf: file)))
        // The jump host carried it: it logged the connection on to the server.
        #expect(jump.log.contains("target \(server.host) port \(server.port)"), "\(jump.log)")

        // The jump host's own key is checked, and pinned apart from the server's.
        let jumpKey = try jump.fingerprint
        await #expect {
            _ = try await SSHConnection.open(
                target, trust: .fingerprint(try server.fingerprint), credentials: .keyFile(server.clientKey),
                jump: JumpHost(bastion, trust: .fingerprint(try server.fingerprint)))
        } throws: { error in
            "\(error)".contains("\(bastion): the ED25519 host key is \(jumpKey)")
                && "\(error)".contains("jump_host_key: \(jumpKey)")
        }
        let refusing = try SSHServer(
            host: "127.0.57.3", configuration: ["AllowTcpForwarding no"], authorizing: server.clientKey)
        let refusingTarget = SSHTarget(user: refusing.user, host: refusing.host, port: refusing.port)
        await #expect {
            _ = try await SSHConnection.open(
                target, trust: .fingerprint(try server.fingerprint), credentials: .keyFile(server.clientKey),
                jump: JumpHost(refusingTarget, trust: .fingerprint(try refusing.fingerprint)))
        } throws: { error in
            "\(error)".hasPrefix(
                "\(refusingTarget): the jump host would not connect on to \(server.host):\(server.port)")
        }
    }

    @Test func theKeysOfAnSSHAgent_signIn_andAnAgentWithoutTheKeyOrNoAgentIsNamed() async throws {
        let agent = try SSHAgent(holding: server.clientKey)
        let connection = try await SSHConnection.open(
            target, trust: .fingerprint(try server.fingerprint), credentials: .agent(socket: agent.socket))
        #expect(try await connection.run("echo agent").standardOutput == "agent\n")

        let stranger = server.folder.appendingPathComponent("stranger-in-agent")
        try SSHServer.makeKey(at: stranger)
        let other = try SSHAgent(holding: stranger)
        await #expect {
            _ = try await SSHConnection.open(
                target, trust: .fingerprint(try server.fingerprint), credentials: .agent(socket: other.socket))
        } throws: { error in
            "\(error)".contains("the server accepted none of the ssh-agent's 1 key for \(server.user)")
        }
        let nowhere = server.folder.appendingPathComponent("no-agent.sock").path
        await #expect {
            _ = try await SSHConnection.open(
                target, trust: .fingerprint(try server.fingerprint), credentials: .agent(socket: nowhere))
        } throws: { error in
            "\(error)".contains("no ssh-agent answers at \(nowhere)")
        }
    }

    @Test func aHandshakeTheServerBrokeOff_isTriedAgain() async throws {
        // sshd drops connections past MaxStartups, as a bastion does when many nodes are bootstrapped
        // at once: one silent connection holds the only start-up place until sshd has dropped ours.
        let busy = try SSHServer(host: "127.0.57.4", configuration: ["MaxStartups 1"])
        // The silent connection holds the place once sshd greets it (the start-up probe may hold it
        // a moment first: sshd then closes ours at once, and it tries again).
        var blocker: Int32 = -1
        try await waitUntil("sshd to greet one silent connection") {
            if blocker >= 0 { close(blocker) }
            blocker = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(busy.port).bigEndian
            inet_pton(AF_INET, busy.host, &address.sin_addr)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(blocker, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            var greeting = [UInt8](repeating: 0, count: 64)
            return connected == 0 && recv(blocker, &greeting, greeting.count, 0) > 0
        }
        let held = blocker
        let release = Task {
            try await waitUntil("sshd to drop a connection") { busy.log.contains("past MaxStartups") }
            close(held)
        }
        let connection = try await SSHConnection.open(
            SSHTarget(user: busy.user, host: busy.host, port: busy.port), trust: .fingerprint(try busy.fingerprint),
            privateKey: busy.clientKey)
        try await release.value
        #expect(try await connection.run("echo again").standardOutput == "again\n")
        #expect(busy.log.contains("past MaxStartups"), "\(busy.log)")
    }

    @Test func anUploadTheServerBrokeOff_goesOnWhereItEnded() async throws {
        let file = server.folder.appendingPathComponent("large-artifact")
        let size = 128 << 20
        try Data(count: size).write(to: file)
        let digestFile = server.folder.appendingPathComponent("digest")
        try Spawn.run("/usr/bin/sha256sum", [file.path], standardOutput: digestFile.path)
        let digest = String(try String(contentsOf: digestFile, encoding: .utf8).prefix(64))
        let remote = server.folder.appendingPathComponent("arrived").path
        let partial = "\(remote).\(digest.prefix(16)).partial"
        func sizeOfPartial() -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: partial))?[.size] as? Int) ?? 0
        }

        let connection = try await SSHConnection.open(
            target, trust: .fingerprint(try server.fingerprint), privateKey: server.clientKey)
        let upload = Task { try await connection.upload(file, to: remote, digest: digest) }
        try await whenFile(partial, growsBeyond: 1 << 20, "a part of the upload to arrive") { [server] in server.crash()
        }
        await #expect(throws: SSHError.self) { try await upload.value }
        let kept = sizeOfPartial()
        #expect(kept > 1 << 20 && kept < size, "\(kept)")
        #expect(!FileManager.default.fileExists(atPath: remote))

        try server.start()
        let again = try await SSHConnection.open(
            target, trust: .fingerprint(try server.fingerprint), privateKey: server.clientKey)
        let resumed = try await again.upload(file, to: remote, digest: digest)
        #expect(resumed.resumedAt == kept)
        #expect(resumed.sent == size - kept)
        let arrived = try await again.run("sha256sum \(remote) | cut -d' ' -f1")
        #expect(arrived.standardOutput == digest + "\n")
        #expect(!FileManager.default.fileExists(atPath: partial))
        await again.close()
    }

    @Test func targets_areReadFromSSHURLs_andBadOnesSayTheForm() throws {
        #expect(
            try SSHTarget(parsing: "ssh://root@kl-live-1.example") == SSHTarget(user: "root", host: "kl-live-1.example")
        )
        #expect(
            try SSHTarget(parsing: "ssh://deploy@127.0.0.1:2222")
                == SSHTarget(user: "deploy", host: "127.0.0.1", port: 2222))
        let v6 = try SSHTarget(parsing: "ssh://root@[2001:db8::1]:2222")
        #expect(v6 == SSHTarget(user: "root", host: "2001:db8::1", port: 2222))
        #expect(v6.description == "ssh://root@[2001:db8::1]:2222")
        #expect(v6.knownHostsName == "[2001:db8::1]:2222")
        #expect(try SSHTarget(parsing: "ssh://root@[::1]").port == 22)
        #expect(SSHTarget.isFingerprint("SHA256:Rh7Ae8TATx9CWtDorNQiD0VSW7YXitqNttyIk36y/es"))
        #expect(!SSHTarget.isFingerprint("SHA256:Rh7Ae8TATx9CWtDorNQiD0VSW7YXitqNttyIk36y/e"))
        #expect(!SSHTarget.isFingerprint("MD5:Rh7Ae8TATx9CWtDorNQiD0VSW7YXitqNttyIk36y/es"))
        for bad in [
            "root@host", "ssh://host", "ssh://root@host:0", "ssh://root@host:99999", "ssh://root@", "ssh://root@ho st",
            "ssh://root@host:99999999999999999999999", "ssh://root@[host]:22", "ssh://root@[::1", "ssh://root@[::1]x",
            "ssh://@host", "ssh://ro'ot@host",
        ] {
            #expect(throws: SSHTargetError.self, "\(bad)") { try SSHTarget(parsing: bad) }
        }
    }
}
