import CLibSSH2
import Dispatch
package import Foundation
import Glibc

/// An SSH server to reach: `ssh://USER@HOST[:PORT]`.
package struct SSHTarget: Sendable, Hashable, CustomStringConvertible {
    package var user: String
    package var host: String
    package var port: Int

    package init(user: String, host: String, port: Int = 22) {
        self.user = user
        self.host = host
        self.port = port
    }

    /// Reads `ssh://USER@HOST[:PORT]`; anything else is an error that shows the form.
    package init(parsing text: String) throws(SSHError) {
        let form = "give ssh://USER@HOST or ssh://USER@HOST:PORT"
        guard text.hasPrefix("ssh://") else { throw SSHError("\(text): \(form)") }
        let rest = text.dropFirst("ssh://".count)
        guard let at = rest.firstIndex(of: "@"), at != rest.startIndex else { throw SSHError("\(text): \(form)") }
        user = String(rest[..<at])
        var address = rest[rest.index(after: at)...]
        port = 22
        if let colon = address.lastIndex(of: ":"), !address.hasSuffix("]") {
            guard let number = Int(address[address.index(after: colon)...]), (1...65535).contains(number) else {
                throw SSHError("\(text): the port must be a number from 1 to 65535")
            }
            port = number
            address = address[..<colon]
        }
        host = String(address)
        guard !host.isEmpty, !user.contains(where: { $0 == "/" || $0 == ":" || $0.isWhitespace }),
            !host.contains(where: { $0 == "/" || $0.isWhitespace })
        else { throw SSHError("\(text): \(form)") }
    }

    package var description: String { "ssh://\(user)@\(host)\(port == 22 ? "" : ":\(port)")" }
}

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
    package init(_ description: String) { self.description = description }
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
    package let target: SSHTarget
    /// The server's host key, as `SHA256:…`.
    package let hostKey: String

    private static let initialised: Int32 = libssh2_init(0)

    private init(queue: DispatchQueue, socket: Int32, session: OpaquePointer, target: SSHTarget, hostKey: String) {
        self.queue = queue
        self.socket = socket
        self.session = session
        self.target = target
        self.hostKey = hostKey
    }

    /// Connects, checks the host key against `trust` before anything else is sent, and authenticates
    /// with the Ed25519 (or ECDSA) key in `privateKey` (OpenSSH format; RSA is not offered: libssh2
    /// signs only with SHA-1 RSA, which current servers refuse).
    package static func open(
        _ target: SSHTarget, trust: HostKeyTrust, privateKey: URL, passphrase: String? = nil,
        timeout: Duration = .seconds(15)
    ) async throws -> SSHConnection {
        let queue = DispatchQueue(label: "stellwerk.ssh.\(target.host)")
        return try await run(on: queue) {
            guard initialised == 0 else { throw SSHError("libssh2 could not be initialised") }
            let milliseconds = Int(timeout.components.seconds * 1000)
            let socket = try connect(target, timeoutMilliseconds: milliseconds)
            guard let session = cssh2_session_init() else {
                close(socket)
                throw SSHError("libssh2 could not make a session")
            }
            func fail(_ error: SSHError) -> SSHError {
                _ = cssh2_session_disconnect(session, "stellwerk: \(error.description.prefix(100))")
                libssh2_session_free(session)
                close(socket)
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
                throw fail(SSHError("\(target): the SSH handshake failed: \(lastError(session))"))
            }
            libssh2_keepalive_config(session, 1, 15)
            let fingerprint: String
            do {
                fingerprint = try verify(session, target: target, trust: trust)
            } catch let error as SSHError {
                throw fail(error)
            }
            guard
                cssh2_userauth_publickey_fromfile(session, target.user, privateKey.path, passphrase) == 0
            else {
                throw fail(
                    SSHError(
                        "\(target): the server did not accept the key \(privateKey.path) for \(target.user): "
                            + "\(lastError(session)); its public half must be in the user's authorized_keys"))
            }
            return SSHConnection(
                queue: queue, socket: socket, session: session, target: target, hostKey: fingerprint)
        }
    }

    deinit {
        let ended = Ended(session: session, socket: socket)
        queue.async {
            _ = cssh2_session_disconnect(ended.session, "stellwerk: done")
            libssh2_session_free(ended.session)
            Glibc.close(ended.socket)
        }
    }

    /// A session to end on the connection's queue, after the connection itself is gone.
    private struct Ended: @unchecked Sendable {
        let session: OpaquePointer
        let socket: Int32
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

    // MARK: Files

    /// Uploads `file` by SFTP to `path` with `mode`, through a temporary name beside it that is
    /// renamed into place once complete, so a broken upload never leaves a half file under `path`.
    /// It fails when the server acknowledges nothing for `silence`.
    package func upload(
        _ file: URL, to path: String, mode: Int32 = 0o644, silence: Duration = .seconds(120)
    ) async throws {
        try await Self.run(on: queue) { [self] in
            let (session, target) = (self.session, self.target)
            Self.limitSilence(session, to: silence)
            guard let handle = FileHandle(forReadingAtPath: file.path) else {
                throw SSHError("cannot read \(file.path)")
            }
            defer { try? handle.close() }
            guard let sftp = libssh2_sftp_init(session) else {
                throw SSHError("\(target): SFTP is not available: \(Self.lastError(session))")
            }
            defer { libssh2_sftp_shutdown(sftp) }
            let partial = path + ".stellwerk-partial"
            guard
                let remote = cssh2_sftp_open(
                    sftp, partial, UInt(LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC), Int(mode))
            else { throw SSHError("\(target): cannot write \(partial): \(Self.lastError(session))") }
            do {
                while let piece = try handle.read(upToCount: 64 * 1024), !piece.isEmpty {
                    var offset = 0
                    while offset < piece.count {
                        let written = piece.withUnsafeBytes { raw in
                            libssh2_sftp_write(
                                remote, raw.baseAddress!.assumingMemoryBound(to: CChar.self) + offset,
                                piece.count - offset)
                        }
                        guard written > 0 else {
                            throw SSHError("\(target): writing \(partial) failed: \(Self.lastError(session))")
                        }
                        offset += written
                    }
                }
            } catch {
                _ = cssh2_sftp_close(remote)
                _ = cssh2_sftp_unlink(sftp, partial)
                throw error
            }
            _ = cssh2_sftp_close(remote)
            // SFTP v3 (OpenSSH) renames only onto a free name: the old file goes first.
            _ = cssh2_sftp_unlink(sftp, path)
            guard cssh2_sftp_rename(sftp, partial, path) == 0 else {
                _ = cssh2_sftp_unlink(sftp, partial)
                throw SSHError("\(target): cannot put \(path) in place: \(Self.lastError(session))")
            }
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
                return socket
            }
            close(socket)
        }
        throw SSHError("\(target): cannot connect: \(reason)")
    }

    /// The host key's fingerprint, once it is the one `trust` expects; else an error saying which
    /// key the server showed and how to trust it, or that it changed.
    private static func verify(_ session: OpaquePointer, target: SSHTarget, trust: HostKeyTrust) throws -> String {
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
        let pin =
            "once you have checked it on the server with `ssh-keygen -lf /etc/ssh/\(keyFile)`, pass it as "
            + "--host-key \(fingerprint) (or add the server to your known_hosts)"
        switch trust {
        case .fingerprint(let expected):
            guard expected == fingerprint else {
                throw SSHError(
                    "\(target): the \(name) host key is \(fingerprint), not the pinned \(expected); refused — "
                        + "the server was reinstalled, or someone is in between; \(pin)")
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
                let entryName = target.port == 22 ? target.host : "[\(target.host)]:\(target.port)"
                throw SSHError(
                    "\(target): THE HOST KEY CHANGED: \(file.path) knows another \(name) key for \(target.host), "
                        + "the server showed \(fingerprint); refused — the server was reinstalled, or someone is in "
                        + "between. If you checked the new key on the server, remove the old entry with "
                        + "`ssh-keygen -R \(entryName) -f \(file.path)`")
            default:
                throw SSHError(
                    "\(target): the \(name) host key \(fingerprint) is not in \(file.path); refused (no trust on "
                        + "first use): " + pin)
            }
        }
        return fingerprint
    }

    private static func write(_ data: Data, to channel: OpaquePointer, session: OpaquePointer, target: SSHTarget) throws
    {
        var offset = 0
        while offset < data.count {
            let written = data.withUnsafeBytes { raw in
                cssh2_channel_write(
                    channel, raw.baseAddress!.assumingMemoryBound(to: CChar.self) + offset, data.count - offset)
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
            let count = buffer.withUnsafeMutableBufferPointer { next($0.baseAddress!, $0.count) }
            if count == 0 { break }
            guard count > 0 else { throw SSHError("\(target): reading failed: \(lastError(session))") }
            if collected.count < limit {
                collected.append(
                    contentsOf: buffer[0..<min(count, limit - collected.count)].map { UInt8(bitPattern: $0) })
            }
        }
        return String(decoding: collected, as: UTF8.self)
    }

    /// How long one blocking call may wait for the server (libssh2 keeps one limit per session).
    private static func limitSilence(_ session: OpaquePointer, to silence: Duration) {
        let seconds = max(1, min(silence.components.seconds, 86_400))
        libssh2_session_set_timeout(session, Int(seconds) * 1000)
    }

    private static func lastError(_ session: OpaquePointer) -> String {
        if libssh2_session_last_errno(session) == LIBSSH2_ERROR_TIMEOUT {
            return "the server sent nothing for \(libssh2_session_get_timeout(session) / 1000) s"
        }
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        let code = libssh2_session_last_error(session, &message, &length, 0)
        return message.map { String(cString: $0) } ?? "libssh2 error \(code)"
    }
}
