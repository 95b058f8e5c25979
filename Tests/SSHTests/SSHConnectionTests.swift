import Foundation
import SSHTransport
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
                && "\(error)".contains("pass it as --host-key \(fingerprint)")
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
            target, trust: .fingerprint(try server.fingerprint), privateKey: server.clientKey, timeout: .seconds(1))
        let output = try await quiet.run("sleep 2; echo done", silence: .seconds(60))
        #expect(output.status == 0)
        #expect(output.standardOutput == "done\n")
    }

    @Test func targets_areReadFromSSHURLs_andBadOnesSayTheForm() throws {
        #expect(
            try SSHTarget(parsing: "ssh://root@kl-live-1.example") == SSHTarget(user: "root", host: "kl-live-1.example")
        )
        #expect(
            try SSHTarget(parsing: "ssh://deploy@127.0.0.1:2222")
                == SSHTarget(user: "deploy", host: "127.0.0.1", port: 2222))
        for bad in [
            "root@host", "ssh://host", "ssh://root@host:0", "ssh://root@host:99999", "ssh://root@", "ssh://root@ho st",
        ] {
            #expect(throws: SSHError.self, "\(bad)") { try SSHTarget(parsing: bad) }
        }
    }
}
