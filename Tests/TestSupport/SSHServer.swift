package import Foundation

/// A throwaway OpenSSH server for a test: its own folder with an Ed25519 host key, a client key in its
/// authorized_keys, a loopback address and free port, public-key login for the user the test runs as
/// (no passwords, no PAM), and SFTP.
///
/// With `CI=true` a missing sshd is a failure, never a skip.
package final class SSHServer: @unchecked Sendable {
    package let host: String
    package let port: Int
    package let folder: URL
    package let user: String
    private var pid: pid_t = 0
    /// A small filesystem of the server's own, seen only by it and its sessions (a mount namespace).
    private var smallDisk: (folder: URL, bytes: Int)?

    package static let executable = "/usr/sbin/sshd"

    package var hostKey: URL { folder.appendingPathComponent("host_ed25519") }
    package var clientKey: URL { folder.appendingPathComponent("client_ed25519") }

    /// Starts sshd on `host` (a loopback address of the test's own) and waits until it listens;
    /// `configuration` adds sshd_config lines (a jump host that refuses to forward, a debug log).
    /// `authorizing` puts another client key in its authorized_keys (one key for a jump host and the
    /// server behind it).
    /// With `recordingCommands`, every command a client runs is written to a log first (`commands`),
    /// so a test sees exactly what went over the channel as a command line. With `smallDisk`, a
    /// tmpfs of that many bytes is mounted at that folder for the server and its sessions only (a
    /// mount namespace of their own), as a server whose disk is full. `user` is whom a client signs
    /// in as (the test's own user unless given: a `TestAccount`).
    package init(
        host: String, user: String? = nil, configuration extra: [String] = [], authorizing other: URL? = nil,
        recordingCommands: Bool = false,
        smallDisk: (folder: URL, bytes: Int)? = nil
    ) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw TestServerError("OpenSSH's server is not installed (no \(Self.executable)); install openssh-server")
        }
        self.host = host
        self.smallDisk = smallDisk
        port = try FreePort.find(host: host)
        folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent(
            "stellwerk-sshd-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        self.user = user ?? String(cString: getpwuid(getuid()).pointee.pw_name)
        for (key, comment) in [(hostKey, "test-host"), (clientKey, "test-client")] {
            try Self.keygen(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", key.path])
        }
        // An ECDSA host key too, as a Debian server has: the client must still see the Ed25519 one.
        let ecdsa = folder.appendingPathComponent("host_ecdsa")
        try Self.keygen(["-q", "-t", "ecdsa", "-N", "", "-C", "test-host", "-f", ecdsa.path])
        var authorized = try String(contentsOf: clientKey.appendingPathExtension("pub"), encoding: .utf8)
        if let other { authorized += try String(contentsOf: other.appendingPathExtension("pub"), encoding: .utf8) }
        let authorizedKeys = folder.appendingPathComponent("authorized_keys")
        try authorized.write(to: authorizedKeys, atomically: true, encoding: .utf8)
        // sshd reads it as the user signing in.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: authorizedKeys.path)
        // sshd insists on its privilege-separation folder.
        try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        let standard = """
            Port \(port)
            ListenAddress \(host)
            HostKey \(ecdsa.path)
            HostKey \(hostKey.path)
            PidFile \(folder.path)/sshd.pid
            AuthorizedKeysFile \(folder.path)/authorized_keys
            UsePAM no
            PubkeyAuthentication yes
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PermitRootLogin prohibit-password
            StrictModes no
            Subsystem sftp internal-sftp
            LogLevel VERBOSE
            SetEnv HOME=\(folder.path)
            """
        // HOME is the server's folder: bash run by sshd reads ~/.bashrc, and the test machine's own
        // (a pyenv that takes a lock a killed session may leave behind) must not slow or stop the
        // commands. Sessions still start in the user's home directory.
        var extra = extra
        if recordingCommands {
            // Runs in place of each command; SFTP (the subsystem's name as its command) goes to OpenSSH's server.
            let wrapper = folder.appendingPathComponent("record-command")
            try """
            #!/bin/sh
            case "$SSH_ORIGINAL_COMMAND" in ""|internal-sftp|sftp) exec /usr/lib/openssh/sftp-server ;; esac
            printf '%s\\n' "$SSH_ORIGINAL_COMMAND" >> '\(folder.path)/commands.log'
            exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"

            """.write(to: wrapper, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: wrapper.path)
            extra.append("ForceCommand \(wrapper.path)")
        }
        // sshd takes the first value of a keyword: the test's own lines go first.
        let configuration = extra.map { $0 + "\n" }.joined() + standard
        try configuration.write(to: folder.appendingPathComponent("sshd_config"), atomically: true, encoding: .utf8)
        try start()
    }

    /// `count` servers on 127.0.`block`.1, .2, …, as the nodes of a test cluster's block are: one key
    /// (the first server's client key) signs in to all.
    package static func several(_ count: Int, block: Int, recordingCommands: Bool = false) throws -> [SSHServer] {
        let first = try SSHServer(host: "127.0.\(block).1", recordingCommands: recordingCommands)
        return [first]
            + (try (1..<count).map {
                try SSHServer(
                    host: "127.0.\(block).\($0 + 1)", authorizing: first.clientKey, recordingCommands: recordingCommands
                )
            })
    }

    /// Starts sshd with its configuration, on its address and port.
    package func start() throws {
        // -D: in the foreground, so this test holds its process; -e: log to the file given as output.
        var executable = Self.executable
        var arguments = ["-D", "-e", "-f", folder.appendingPathComponent("sshd_config").path]
        if let (disk, bytes) = smallDisk {
            try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
            // unshare and sh exec in turn: the process is sshd's, under the same PID.
            arguments =
                [
                    "-m", "/bin/sh", "-c", "mount -t tmpfs -o size=\(bytes) tmpfs \"$0\" && exec \"$@\"", disk.path,
                    executable,
                ] + arguments
            executable = "/usr/bin/unshare"
        }
        pid = try Spawn.server(
            executable, arguments, marker: folder.path, host: host, port: port, name: "sshd",
            standardOutput: folder.appendingPathComponent("sshd.log").path
        ) { [folder] in (try? String(contentsOf: folder.appendingPathComponent("sshd.log"), encoding: .utf8)) ?? "" }
    }

    /// Ends sshd and every session it runs at once (SIGKILL), as a server that loses power does.
    package func crash() {
        guard pid > 0 else { return }
        var family = [pid]
        var index = 0
        while index < family.count {
            family += Self.children(of: family[index])
            index += 1
        }
        for member in family.reversed() { kill(member, SIGKILL) }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        pid = 0
    }

    /// The processes whose parent is `parent`, from /proc.
    private static func children(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            // After the command's name: state, then the parent's PID.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == parent ? pid : nil
        }
    }

    deinit {
        Spawn.terminate(pid)
        try? FileManager.default.removeItem(at: folder)
    }

    /// The host key's fingerprint as `ssh-keygen -lf` prints it: `SHA256:…`.
    package var fingerprint: String {
        get throws {
            let output = folder.appendingPathComponent("fingerprint")
            try Self.keygen(["-l", "-f", hostKey.appendingPathExtension("pub").path], output: output)
            let line = try String(contentsOf: output, encoding: .utf8)
            return String(line.split(separator: " ")[1])
        }
    }

    /// A known_hosts line for this server with its real key.
    package var knownHostsLine: String {
        get throws {
            let key = try String(contentsOf: hostKey.appendingPathExtension("pub"), encoding: .utf8)
                .split(separator: " ").prefix(2).joined(separator: " ")
            return "[\(host)]:\(port) \(key)\n"
        }
    }

    /// The commands clients ran, in order (with `recordingCommands`).
    package var commands: [String] {
        ((try? String(contentsOf: folder.appendingPathComponent("commands.log"), encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
    }

    /// What sshd logged, for failure messages.
    package var log: String {
        (try? String(contentsOf: folder.appendingPathComponent("sshd.log"), encoding: .utf8)) ?? ""
    }

    /// Makes a new Ed25519 key pair at `file` (and `file.pub`).
    package static func makeKey(at file: URL) throws {
        try keygen(["-q", "-t", "ed25519", "-N", "", "-C", "other", "-f", file.path])
    }

    private static func keygen(_ arguments: [String], output: URL? = nil) throws {
        let status = try Spawn.run("/usr/bin/ssh-keygen", arguments, standardOutput: output?.path).status
        guard status == 0 else { throw TestServerError("ssh-keygen \(arguments.joined(separator: " ")) failed") }
    }
}
