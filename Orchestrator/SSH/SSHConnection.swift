import CLibSSH2
import Dispatch
package import Foundation
import Glibc
package import StellwerkAPI

/// Whom the orchestrator believes a server to be. There is no trust on first use: an unknown key is
/// refused with its fingerprint and the way to pin it, a changed key loudly.
package enum HostKeyTrust: Sendable {
    /// `SHA256:…` as `ssh-keygen -lf` prints it (a site file's `ssh: {host_key: …}`).
    case fingerprint(String)
    /// An OpenSSH `known_hosts` file (hashed names and `[host]:port` entries too).
    case knownHosts(URL)
}

/// A failure of SSH, in one sentence that says what and, where it helps, what to do.
package struct SSHError: Error, CustomStringConvertible, Sendable {
    package let description: String
    /// Whether the server broke off the handshake (worth another try), not refused us.
    package let handshake: Bool
    package init(_ description: String, handshake: Bool = false) {
        self.description = description
        self.handshake = handshake
    }
}

/// How the orchestrator signs in: an Ed25519 key file, or the keys a running ssh-agent holds.
/// Passwords are not offered.
package enum SSHCredentials: Sendable {
    case keyFile(URL, passphrase: String? = nil)
    /// The agent at `socket`, or at `$SSH_AUTH_SOCK` when `nil`.
    case agent(socket: String? = nil)
}

/// A bastion the server is reached through: an SSH server of its own, with its own host key.
package struct JumpHost: Sendable {
    package var target: SSHTarget
    package var trust: HostKeyTrust

    package init(_ target: SSHTarget, trust: HostKeyTrust) {
        self.target = target
        self.trust = trust
    }
}

/// One authenticated SSH session: commands and SFTP uploads over it. libssh2 is blocking and a
/// session is not thread-safe, so every call runs on the connection's own serial queue, off the
/// cooperative threads. Connecting and the handshake have a timeout; commands and uploads have a
/// silence limit of their own: a call fails when the server sends nothing for that long (a command
/// that works quietly, such as a checksum of a large file under load, needs more than a handshake).
package final class SSHConnection: @unchecked Sendable {
    private let queue: DispatchQueue
    private let socket: Int32
    private let session: OpaquePointer
    /// The jump host's connection this one runs through, kept open as long as this one.
    private let tunnel: SSHConnection?
    private let ending: Ending
    package let target: SSHTarget
    /// The server's host key, as `SHA256:…`.
    package let hostKey: String
    /// The jump host's key, as `SHA256:…`, when the connection runs through one.
    package var jumpHostKey: String? { tunnel?.hostKey }

    private static let initialised: Int32 = libssh2_init(0)

    private init(
        queue: DispatchQueue, socket: Int32, session: OpaquePointer, tunnel: SSHConnection?, target: SSHTarget,
        hostKey: String
    ) {
        self.queue = queue
        self.socket = socket
        self.session = session
        self.tunnel = tunnel
        ending = Ending(session: session, socket: socket)
        self.target = target
        self.hostKey = hostKey
    }

    /// Connects with the Ed25519 (or ECDSA) key in `privateKey` (OpenSSH format).
    package static func open(
        _ target: SSHTarget, trust: HostKeyTrust, privateKey: URL, passphrase: String? = nil,
        timeout: Duration = .seconds(15)
    ) async throws -> SSHConnection {
        try await open(
            target, trust: trust, credentials: .keyFile(privateKey, passphrase: passphrase), timeout: timeout)
    }

    /// Connects (through `jump` when given), checks the host key against `trust` before anything
    /// else is sent, and authenticates with `credentials` (RSA keys are not offered: libssh2 signs
    /// only with SHA-1 RSA, which current servers refuse). The jump host's key is checked and the
    /// same credentials are used there.
    package static func open(
        _ target: SSHTarget, trust: HostKeyTrust, credentials: SSHCredentials, jump: JumpHost? = nil,
        timeout: Duration = .seconds(15)
    ) async throws -> SSHConnection {
        // A handshake a busy server broke off (sshd drops connections past MaxStartups, as when many
        // nodes are bootstrapped through one bastion) is tried three times more, after 0.25, 0.5 and 1 s.
        var attempt = 1
        while true {
            do {
                guard let jump else {
                    return try await open(
                        target, trust: trust, credentials: credentials, pin: .server, timeout: timeout)
                }
                let bastion = try await open(
                    jump.target, trust: jump.trust, credentials: credentials, pin: .jumpHost, timeout: timeout)
                do {
                    let tunnelled = try await bastion.forward(to: target)
                    return try await open(
                        target, trust: trust, credentials: credentials, pin: .server, timeout: timeout,
                        socket: tunnelled, tunnel: bastion)
                } catch {
                    await bastion.close()
                    throw error
                }
            } catch let error as SSHError where error.handshake && attempt < 4 {
                try await Task.sleep(for: .milliseconds(125 << attempt))
                attempt += 1
            }
        }
    }

    /// Where an operator pins a host key: the server's, or its jump host's.
    private enum Pin {
        case server, jumpHost

        func advice(_ fingerprint: String) -> String {
            switch self {
            case .server:
                "pin it as `ssh: {host_key: \(fingerprint)}` on the node in its site file, or pass --host-key "
                    + "\(fingerprint) (or add the server to your known_hosts)"
            case .jumpHost:
                "pin it as `ssh: {jump_host_key: \(fingerprint)}` in the site file, or pass --jump-host-key "
                    + "\(fingerprint) (or add the jump host to your known_hosts)"
            }
        }
    }

    private static func open(
        _ target: SSHTarget, trust: HostKeyTrust, credentials: SSHCredentials, pin: Pin, timeout: Duration,
        socket tunnelled: Int32? = nil, tunnel: SSHConnection? = nil
    ) async throws -> SSHConnection {
        let queue = DispatchQueue(label: "stellwerk.ssh.\(target.host)")
        return try await run(on: queue) {
            let milliseconds = Int(timeout.components.seconds * 1000)
            let socket = try tunnelled ?? connect(target, timeoutMilliseconds: milliseconds)
            guard initialised == 0 else {
                Glibc.close(socket)
                throw SSHError("libssh2 could not be initialised")
            }
            guard let session = cssh2_session_init() else {
                Glibc.close(socket)
                throw SSHError("libssh2 could not make a session")
            }
            func fail(_ error: SSHError) -> SSHError {
                _ = cssh2_session_disconnect(session, "stellwerk: \(error.description.prefix(100))")
                libssh2_session_free(session)
                Glibc.close(socket)
                return error
            }
            libssh2_session_set_blocking(session, 1)
            libssh2_session_set_timeout(session, milliseconds)
            // The server's Ed25519 key first, the one operators read with `ssh-keygen -lf` and pin:
            // libssh2 would otherwise take the ECDSA key a Debian server also has.
            _ = libssh2_session_method_pref(
                session, LIBSSH2_METHOD_HOSTKEY,
                "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,ssh-rsa")
            guard libssh2_session_handshake(session, socket) == 0 else {
                throw fail(SSHError("\(target): the SSH handshake failed: \(lastError(session))", handshake: true))
            }
            libssh2_keepalive_config(session, 1, 15)
            let fingerprint: String
            do {
                fingerprint = try verify(session, target: target, trust: trust, pin: pin)
                try authenticate(session, target: target, credentials: credentials)
            } catch let error as SSHError {
                throw fail(error)
            }
            return SSHConnection(
                queue: queue, socket: socket, session: session, tunnel: tunnel, target: target, hostKey: fingerprint)
        }
    }

    private static func authenticate(_ session: OpaquePointer, target: SSHTarget, credentials: SSHCredentials) throws {
        switch credentials {
        case .keyFile(let privateKey, let passphrase):
            guard
                cssh2_userauth_publickey_fromfile(session, target.user, privateKey.path, passphrase) == 0
            else {
                throw SSHError(
                    "\(target): the server did not accept the key \(privateKey.path) for \(target.user): "
                        + "\(lastError(session)); its public half must be in the user's authorized_keys")
            }
        case .agent(let socket):
            guard let path = socket ?? ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"], !path.isEmpty else {
                throw SSHError("no ssh-agent: SSH_AUTH_SOCK is not set; start one (`eval $(ssh-agent)`, `ssh-add`)")
            }
            guard let agent = libssh2_agent_init(session) else { throw SSHError("libssh2 could not make an agent") }
            defer { libssh2_agent_free(agent) }
            libssh2_agent_set_identity_path(agent, path)
            guard libssh2_agent_connect(agent) == 0 else {
                throw SSHError("no ssh-agent answers at \(path): \(lastError(session))")
            }
            defer { _ = libssh2_agent_disconnect(agent) }
            guard libssh2_agent_list_identities(agent) == 0 else {
                throw SSHError("the ssh-agent at \(path) did not list its keys: \(lastError(session))")
            }
            var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
            var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
            var offered = 0
            while libssh2_agent_get_identity(agent, &identity, previous) == 0, let key = identity {
                offered += 1
                if libssh2_agent_userauth(agent, target.user, key) == 0 { return }
                previous = key
            }
            throw SSHError(
                offered == 0
                    ? "the ssh-agent at \(path) holds no keys; add one with `ssh-add`"
                    : "\(target): the server accepted none of the ssh-agent's \(offered) key\(offered == 1 ? "" : "s") "
                        + "for \(target.user); the public half must be in the user's authorized_keys")
        }
    }

    deinit {
        let ending = ending
        queue.async { ending.end() }
    }

    /// Ends the session now and waits until it has ended (and the jump host's after it). A process
    /// that exits while a session is still torn down on another thread may crash in OpenSSL's
    /// cleanup, so commands close their connections before they end.
    package func close() async {
        let ending = ending
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            queue.async {
                ending.end()
                done.resume()
            }
        }
        await tunnel?.close()
    }

    /// The end of a session, once: by `close()`, or after the connection is gone. Touched only on
    /// the connection's queue.
    private final class Ending: @unchecked Sendable {
        let session: OpaquePointer
        let socket: Int32
        private(set) var ended = false

        init(session: OpaquePointer, socket: Int32) {
            self.session = session
            self.socket = socket
        }

        func end() {
            guard !ended else { return }
            ended = true
            // A goodbye to a server that stopped answering waits no longer than this.
            libssh2_session_set_timeout(session, 5000)
            _ = cssh2_session_disconnect(session, "stellwerk: done")
            libssh2_session_free(session)
            Glibc.close(socket)
        }
    }

    /// Throws when `close()` ended the session already.
    private func checkOpen() throws {
        if ending.ended { throw SSHError("\(target): the connection was closed") }
    }

    // MARK: Commands

    /// What a command printed and how it ended.
    package struct Output: Sendable {
        package var status: Int32
        package var standardOutput: String
        package var standardError: String
    }

    /// Runs `command` with the login shell of the user; at most `limit` bytes of each output are kept.
    /// It fails when the server sends nothing for `silence`.
    package func run(
        _ command: String, input: Data? = nil, limit: Int = 1 << 20, silence: Duration = .seconds(300)
    ) async throws -> Output {
        try await Self.run(on: queue) { [self] in
            try checkOpen()
            let (session, target) = (self.session, self.target)
            Self.limitSilence(session, to: silence)
            guard let channel = cssh2_channel_open_session(session) else {
                throw SSHError("\(target): no channel for a command: \(Self.lastError(session))")
            }
            defer { libssh2_channel_free(channel) }
            guard cssh2_channel_exec(channel, command) == 0 else {
                throw SSHError("\(target): the command could not be started: \(Self.lastError(session))")
            }
            if let input {
                try Self.write(input, to: channel, session: session, target: target)
                _ = cssh2_channel_eof_send(channel)
            }
            let standardOutput = try Self.read(limit: limit, session: session, target: target) {
                cssh2_channel_read(channel, $0, $1)
            }
            let standardError = try Self.read(limit: limit, session: session, target: target) {
                cssh2_channel_read_stderr(channel, $0, $1)
            }
            _ = libssh2_channel_close(channel)
            _ = libssh2_channel_wait_closed(channel)
            // A command a signal ended has no exit status (libssh2 says 0): it failed.
            var signal: UnsafeMutablePointer<CChar>?
            var signalLength = 0
            _ = libssh2_channel_get_exit_signal(channel, &signal, &signalLength, nil, nil, nil, nil)
            if let signal {
                defer { free(signal) }
                return Output(
                    status: -1, standardOutput: standardOutput,
                    standardError: standardError + "killed by SIG\(String(cString: signal))\n")
            }
            return Output(
                status: libssh2_channel_get_exit_status(channel), standardOutput: standardOutput,
                standardError: standardError)
        }
    }

    /// What runs a command as root here: nothing when signed in as root, `sudo -n ` for any other
    /// user once sudo has shown it works without a password. A user it does not work for is refused
    /// with what sudo said and how to allow it, before anything is changed on the server.
    package func rootPrefix() async throws -> String {
        guard target.user != "root" else { return "" }
        let output = try await run("sudo -n true", limit: 4096, silence: .seconds(30))
        guard output.status != 0 else { return "sudo -n " }
        let said = output.standardError.split(separator: "\n").first.map(String.init) ?? "exit \(output.status)"
        if output.status == 127 {
            throw SSHError(
                "\(target): \(target.user) is not root and sudo is not installed there (\(said)); "
                    + "install sudo and allow \(target.user) to use it without a password, or sign in as root")
        }
        throw SSHError(
            "\(target): \(target.user) may not run commands as root without a password (sudo -n said: \(said)); "
                + "allow it with a sudoers line \"\(target.user) ALL=(root) NOPASSWD: ALL\", or sign in as root")
    }

    // MARK: Files

    /// What an upload sent.
    package struct Upload: Sendable {
        /// Where it began: above 0 when it went on from a partial file an earlier upload left.
        package var resumedAt: Int
        package var sent: Int
    }

    /// Uploads `file` by SFTP to `path` with `mode`, through a temporary name beside it that is
    /// renamed into place once complete, so a broken upload never leaves a half file under `path`.
    /// With `digest` (the file's SHA-256) the temporary file is named after the content and kept when
    /// the connection breaks, and the next upload of the same content goes on where it ended: its
    /// bytes can only be the start of that same file. Checking what arrived stays the caller's (a
    /// checksum on the server). It fails when the server acknowledges nothing for `silence`.
    @discardableResult
    package func upload(
        _ file: URL, to path: String, mode: Int32 = 0o644, digest: String? = nil, silence: Duration = .seconds(120)
    ) async throws -> Upload {
        try await Self.run(on: queue) { [self] in
            try checkOpen()
            let (session, target) = (self.session, self.target)
            Self.limitSilence(session, to: silence)
            guard let handle = FileHandle(forReadingAtPath: file.path) else {
                throw SSHError("cannot read \(file.path)")
            }
            defer { try? handle.close() }
            let size = try handle.seekToEnd()
            guard let sftp = libssh2_sftp_init(session) else {
                throw SSHError("\(target): SFTP is not available: \(Self.lastError(session))")
            }
            defer { libssh2_sftp_shutdown(sftp) }
            let partial = digest.map { "\(path).\($0.prefix(16)).partial" } ?? "\(path).stellwerk-partial"
            func open(truncating: Bool) throws -> OpaquePointer {
                let flags = LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | (truncating ? LIBSSH2_FXF_TRUNC : 0)
                guard let remote = cssh2_sftp_open(sftp, partial, UInt(flags), Int(mode)) else {
                    throw SSHError("\(target): cannot write \(partial): \(Self.lastError(session))")
                }
                return remote
            }
            var remote = try open(truncating: digest == nil)
            var attributes = LIBSSH2_SFTP_ATTRIBUTES()
            var resumedAt: UInt64 = 0
            if digest != nil, libssh2_sftp_fstat_ex(remote, &attributes, 0) == 0,
                attributes.flags & UInt(LIBSSH2_SFTP_ATTR_SIZE) != 0
            {
                if attributes.filesize <= size {
                    resumedAt = attributes.filesize
                } else {
                    // Longer than the file it is named after: not a start of it; begun again.
                    _ = cssh2_sftp_close(remote)
                    remote = try open(truncating: true)
                }
            }
            libssh2_sftp_seek64(remote, resumedAt)
            try handle.seek(toOffset: resumedAt)
            var sent = 0
            do {
                while let piece = try handle.read(upToCount: 1 << 20), !piece.isEmpty {
                    var offset = 0
                    while offset < piece.count {
                        let written = Self.uninterrupted(session) {
                            piece.withUnsafeBytes { raw in
                                libssh2_sftp_write(
                                    remote, raw.baseAddress!.assumingMemoryBound(to: CChar.self) + offset,
                                    piece.count - offset)
                            }
                        }
                        guard written > 0 else {
                            throw SSHError("\(target): writing \(partial) failed: \(Self.lastError(session))")
                        }
                        offset += written
                        sent += written
                    }
                }
            } catch {
                _ = cssh2_sftp_close(remote)
                // Kept for the next upload of the same content; a partial of no known content goes.
                if digest == nil { _ = cssh2_sftp_unlink(sftp, partial) }
                throw error
            }
            _ = cssh2_sftp_close(remote)
            // SFTP v3 (OpenSSH) renames only onto a free name: the old file goes first.
            _ = cssh2_sftp_unlink(sftp, path)
            guard cssh2_sftp_rename(sftp, partial, path) == 0 else {
                _ = cssh2_sftp_unlink(sftp, partial)
                throw SSHError("\(target): cannot put \(path) in place: \(Self.lastError(session))")
            }
            return Upload(resumedAt: Int(resumedAt), sent: sent)
        }
    }

    // MARK: Tunnels

    /// Asks this server (a jump host) to connect on to `target` and returns a local socket that
    /// carries that connection, for a session of its own. From then on this connection does nothing
    /// else: its queue pumps bytes both ways until the session on the socket ends.
    fileprivate func forward(to target: SSHTarget) async throws -> Int32 {
        try await Self.run(on: queue) { [self] () throws -> Int32 in
            guard let channel = cssh2_channel_direct_tcpip(session, target.host, Int32(target.port)) else {
                throw SSHError(
                    "\(self.target): the jump host would not connect on to \(target.host):\(target.port): "
                        + "\(Self.lastError(session))")
            }
            var pair: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0
            else {
                libssh2_channel_free(channel)
                throw SSHError("no socket pair for the jump host: \(String(cString: strerror(errno)))")
            }
            let (pump, carried) = (Pump(channel: channel), pair[1])
            queue.async { [self] in pump.run(session: session, socket: socket, local: carried) }
            return pair[0]
        }
    }

    /// Carries bytes between a direct-tcpip channel and one end of a socket pair, without ever
    /// blocking on either side (the session on the other end may be writing while the far server
    /// writes too), until one side ends.
    private struct Pump: @unchecked Sendable {
        let channel: OpaquePointer

        func run(session: OpaquePointer, socket: Int32, local: Int32) {
            libssh2_session_set_blocking(session, 0)
            _ = fcntl(local, F_SETFL, fcntl(local, F_GETFL) | O_NONBLOCK)
            var buffer = [CChar](repeating: 0, count: 32 * 1024)
            var toLocal: [CChar] = []
            var toChannel: [CChar] = []
            var localEnded = false
            var channelEnded = false
            var lastProgress = ContinuousClock.now
            while !(localEnded && toChannel.isEmpty) && !(channelEnded && toLocal.isEmpty) {
                // Once the session on the socket has gone, what it left is sent for a few seconds at
                // most: a far end that stopped taking data must not hold the jump host for good.
                if localEnded, ContinuousClock.now - lastProgress > .seconds(5) { break }
                var progressed = false
                if toLocal.isEmpty && !channelEnded {
                    let count = libssh2_channel_read_ex(channel, 0, &buffer, buffer.count)
                    if count > 0 {
                        toLocal = Array(buffer[0..<count])
                        progressed = true
                    } else if count == 0, libssh2_channel_eof(channel) != 0 {
                        channelEnded = true
                    } else if count < 0, count != LIBSSH2_ERROR_EAGAIN {
                        break
                    }
                }
                if !toLocal.isEmpty {
                    let sent = toLocal.withUnsafeBytes { send(local, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if sent > 0 {
                        toLocal.removeFirst(sent)
                        progressed = true
                    } else if errno != EAGAIN && errno != EWOULDBLOCK {
                        break
                    }
                }
                if toChannel.isEmpty && !localEnded {
                    let count = buffer.withUnsafeMutableBytes { recv(local, $0.baseAddress, $0.count, 0) }
                    if count > 0 {
                        toChannel = Array(buffer[0..<count])
                        progressed = true
                    } else if count == 0 {
                        localEnded = true
                    } else if errno != EAGAIN && errno != EWOULDBLOCK {
                        localEnded = true
                    }
                }
                if !toChannel.isEmpty {
                    let written = libssh2_channel_write_ex(channel, 0, toChannel, toChannel.count)
                    if written > 0 {
                        toChannel.removeFirst(written)
                        progressed = true
                    } else if written != LIBSSH2_ERROR_EAGAIN {
                        break
                    }
                }
                // A write may have read packets for the channel into libssh2's buffer: no waiting then.
                if progressed || (toLocal.isEmpty && !channelEnded && libssh2_poll_channel_read(channel, 0) != 0) {
                    lastProgress = .now
                    continue
                }
                var next: Int32 = 0
                _ = libssh2_keepalive_send(session, &next)
                let directions = libssh2_session_block_directions(session)
                // Only what would let the loop go on: data from the far end while there is room for
                // it, and the socket pair not at all once its session has gone (its hang-up would
                // wake every poll at once).
                var remoteEvents: Int16 = 0
                if toLocal.isEmpty || directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { remoteEvents |= Int16(POLLIN) }
                if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { remoteEvents |= Int16(POLLOUT) }
                var localEvents: Int16 = 0
                if toChannel.isEmpty && !localEnded { localEvents |= Int16(POLLIN) }
                if !toLocal.isEmpty { localEvents |= Int16(POLLOUT) }
                var watched = [
                    pollfd(fd: socket, events: remoteEvents, revents: 0),
                    pollfd(fd: localEnded && toLocal.isEmpty ? -1 : local, events: localEvents, revents: 0),
                ]
                _ = poll(&watched, 2, 200)
            }
            Glibc.close(local)
            libssh2_session_set_blocking(session, 1)
            libssh2_session_set_timeout(session, 5000)
            _ = libssh2_channel_close(channel)
            libssh2_channel_free(channel)
        }
    }

    // MARK: Below

    private static func run<T: Sendable>(
        on queue: DispatchQueue, _ body: @escaping @Sendable () throws -> T
    )
        async throws -> T
    {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// A TCP connection within `timeoutMilliseconds` to the first address of the host that answers.
    private static func connect(_ target: SSHTarget, timeoutMilliseconds: Int) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(target.host, String(target.port), &hints, &found) == 0, let first = found else {
            throw SSHError("\(target): the host name \(target.host) does not resolve")
        }
        defer { freeaddrinfo(found) }
        var reason = "no address"
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let address = next {
            next = address.pointee.ai_next
            let socket = Glibc.socket(address.pointee.ai_family, address.pointee.ai_socktype, 0)
            guard socket >= 0 else { continue }
            let flags = fcntl(socket, F_GETFL)
            _ = fcntl(socket, F_SETFL, flags | O_NONBLOCK)
            var result = Glibc.connect(socket, address.pointee.ai_addr, address.pointee.ai_addrlen)
            if result != 0, errno == EINPROGRESS {
                var poller = pollfd(fd: socket, events: Int16(POLLOUT), revents: 0)
                if poll(&poller, 1, Int32(timeoutMilliseconds)) == 1 {
                    var error: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(socket, SOL_SOCKET, SO_ERROR, &error, &length)
                    result = error == 0 ? 0 : -1
                    if error != 0 { reason = String(cString: strerror(error)) }
                } else {
                    reason = "no answer within \(timeoutMilliseconds / 1000) s"
                }
            } else if result != 0 {
                reason = String(cString: strerror(errno))
            }
            if result == 0 {
                _ = fcntl(socket, F_SETFL, flags)
                // SSH sends small packets (window adjustments, acknowledgements) it then waits on:
                // Nagle's algorithm would hold each for the peer's delayed ACK, 40 ms a round.
                var on: Int32 = 1
                _ = setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
                return socket
            }
            Glibc.close(socket)
        }
        throw SSHError("\(target): cannot connect: \(reason)")
    }

    /// The host key's fingerprint, once it is the one `trust` expects; else an error saying which
    /// key the server showed and how to trust it, or that it changed.
    private static func verify(
        _ session: OpaquePointer, target: SSHTarget, trust: HostKeyTrust, pin: Pin
    ) throws -> String {
        guard let hash = libssh2_hostkey_hash(session, LIBSSH2_HOSTKEY_HASH_SHA256) else {
            throw SSHError("\(target): the server showed no host key")
        }
        var base64 = Data(bytes: hash, count: 32).base64EncodedString()
        while base64.hasSuffix("=") { base64.removeLast() }
        let fingerprint = "SHA256:" + base64
        var length = 0
        var type: Int32 = 0
        guard let key = libssh2_session_hostkey(session, &length, &type) else {
            throw SSHError("\(target): the server showed no host key")
        }
        let (name, keyFile, knownType): (String, String, Int32) =
            switch type {
            case LIBSSH2_HOSTKEY_TYPE_ED25519: ("ED25519", "ssh_host_ed25519_key.pub", LIBSSH2_KNOWNHOST_KEY_ED25519)
            case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: ("ECDSA", "ssh_host_ecdsa_key.pub", LIBSSH2_KNOWNHOST_KEY_ECDSA_256)
            case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: ("ECDSA", "ssh_host_ecdsa_key.pub", LIBSSH2_KNOWNHOST_KEY_ECDSA_384)
            case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: ("ECDSA", "ssh_host_ecdsa_key.pub", LIBSSH2_KNOWNHOST_KEY_ECDSA_521)
            case LIBSSH2_HOSTKEY_TYPE_RSA: ("RSA", "ssh_host_rsa_key.pub", LIBSSH2_KNOWNHOST_KEY_SSHRSA)
            default: ("unknown", "ssh_host_*_key.pub", LIBSSH2_KNOWNHOST_KEY_UNKNOWN)
            }
        let advice =
            "once you have checked it on the server with `ssh-keygen -lf /etc/ssh/\(keyFile)`, "
            + pin.advice(fingerprint)
        switch trust {
        case .fingerprint(let expected):
            guard expected == fingerprint else {
                throw SSHError(
                    "\(target): the \(name) host key is \(fingerprint), not the pinned \(expected); refused — "
                        + "the server was reinstalled, or someone is in between; \(advice)")
            }
        case .knownHosts(let file):
            guard let knownHosts = libssh2_knownhost_init(session) else {
                throw SSHError("libssh2 could not read known hosts")
            }
            defer { libssh2_knownhost_free(knownHosts) }
            if FileManager.default.fileExists(atPath: file.path),
                libssh2_knownhost_readfile(knownHosts, file.path, LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0
            {
                throw SSHError("\(file.path) is not a known_hosts file: \(lastError(session))")
            }
            var entry: UnsafeMutablePointer<libssh2_knownhost>?
            // With the key's type: a host known only by a key of another type is not a changed key.
            let check = libssh2_knownhost_checkp(
                knownHosts, target.host, Int32(target.port), key, length,
                LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | knownType, &entry)
            switch check {
            case LIBSSH2_KNOWNHOST_CHECK_MATCH:
                break
            case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
                let entryName = target.knownHostsName
                throw SSHError(
                    "\(target): THE HOST KEY CHANGED: \(file.path) knows another \(name) key for \(target.host), "
                        + "the server showed \(fingerprint); refused — the server was reinstalled, or someone is in "
                        + "between. If you checked the new key on the server, remove the old entry with "
                        + "`ssh-keygen -R \(entryName) -f \(file.path)`")
            default:
                throw SSHError(
                    "\(target): the \(name) host key \(fingerprint) is not in \(file.path); refused (no trust on "
                        + "first use): " + advice)
            }
        }
        return fingerprint
    }

    private static func write(_ data: Data, to channel: OpaquePointer, session: OpaquePointer, target: SSHTarget) throws
    {
        var offset = 0
        while offset < data.count {
            let written = uninterrupted(session) {
                data.withUnsafeBytes { raw in
                    cssh2_channel_write(
                        channel, raw.baseAddress!.assumingMemoryBound(to: CChar.self) + offset, data.count - offset)
                }
            }
            guard written > 0 else { throw SSHError("\(target): sending input failed: \(lastError(session))") }
            offset += written
        }
    }

    private static func read(
        limit: Int, session: OpaquePointer, target: SSHTarget,
        _ next: (UnsafeMutablePointer<CChar>, Int) -> Int
    ) throws -> String {
        var collected = Data()
        var buffer = [CChar](repeating: 0, count: 32 * 1024)
        while true {
            let count = uninterrupted(session) {
                buffer.withUnsafeMutableBufferPointer { next($0.baseAddress!, $0.count) }
            }
            if count == 0 { break }
            guard count > 0 else { throw SSHError("\(target): reading failed: \(lastError(session))") }
            if collected.count < limit {
                buffer.withUnsafeBytes { collected.append(contentsOf: $0.prefix(min(count, limit - collected.count))) }
            }
        }
        return String(decoding: collected, as: UTF8.self)
    }

    /// How long one blocking call may wait for the server (libssh2 keeps one limit per session).
    private static func limitSilence(_ session: OpaquePointer, to silence: Duration) {
        let seconds = max(1, min(silence.components.seconds, 86_400))
        libssh2_session_set_timeout(session, Int(seconds) * 1000)
    }

    /// Runs a blocking libssh2 call again when a signal only cut its wait short. libssh2 1.10
    /// (Debian 12's) reports a poll() that a signal interrupted — SIGCHLD when any child process of
    /// ours ends — as a timeout ("Error waiting on socket"), though nothing timed out; the call
    /// itself can be made again, as in non-blocking use. A real timeout or any other failure is
    /// returned as it came.
    static func uninterrupted(_ session: OpaquePointer, _ call: () -> Int) -> Int {
        var tries = 0
        while true {
            let result = call()
            let interrupted = errno == EINTR
            guard result == Int(LIBSSH2_ERROR_TIMEOUT), interrupted, tries < 1000 else { return result }
            var message: UnsafeMutablePointer<CChar>?
            var length: Int32 = 0
            _ = libssh2_session_last_error(session, &message, &length, 0)
            guard message.map({ String(cString: $0) }) == "Error waiting on socket" else { return result }
            tries += 1
        }
    }

    private static func lastError(_ session: OpaquePointer) -> String {
        if libssh2_session_last_errno(session) == LIBSSH2_ERROR_TIMEOUT {
            return "the server sent nothing for \(libssh2_session_get_timeout(session) / 1000) s"
        }
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        let code = libssh2_session_last_error(session, &message, &length, 0)
        let text = message.map { String(cString: $0) } ?? ""
        return text.isEmpty ? "libssh2 error \(code)" : "\(text) (libssh2 error \(code))"
    }
}
