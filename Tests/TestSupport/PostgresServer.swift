package import Foundation

/// A throwaway PostgreSQL server for tests: a fresh cluster in a temporary folder on a free loopback
/// port, started once per test process and stopped when it exits. Each test gets its own database.
///
/// With `CI=true` a missing PostgreSQL is a failure, never a skip.
package final class PostgresServer: @unchecked Sendable {
    package let port: Int
    package let folder: URL
    /// The CA that signed the server's certificate, for `sslmode=verify-full&sslrootcert=…`.
    package private(set) var certificateAuthority = ""
    private let binaries: URL
    /// What `pg_ctl start` is given, to start the server again the same way.
    private var startOptions = ""
    private static let password = "stellwerk-test"

    /// Whether this machine has PostgreSQL's server binaries.
    package static var isInstalled: Bool { findBinaries() != nil }

    /// Whether tests that need PostgreSQL must run: always in CI, else when it is installed.
    package static var shouldRun: Bool {
        ProcessInfo.processInfo.environment["CI"] == "true" || isInstalled
    }

    private static func findBinaries() -> URL? {
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        for version in versions.sorted(by: >) {
            let bin = root.appendingPathComponent(version).appendingPathComponent("bin")
            if FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent("initdb").path) { return bin }
        }
        return nil
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var started: PostgresServer?

    /// The server of this test process, started on first use (on a Dispatch thread: starting it
    /// takes seconds).
    package static func shared() async throws -> PostgresServer {
        try await offloaded {
            lock.lock()
            defer { lock.unlock() }
            if let started { return started }
            let server = try PostgresServer(crashSafe: false)
            started = server
            return server
        }
    }

    /// - Parameter crashSafe: whether a commit is on disk (well, in the kernel's cache) before it is
    ///   acknowledged. Off for speed in the shared server; on for a server a test stops with
    ///   `-m immediate`, which would otherwise take the last commits with it, as a crash of a
    ///   database configured that way would.
    private init(crashSafe: Bool) throws {
        guard let binaries = Self.findBinaries() else {
            throw TestServerError(
                "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); install the postgresql package")
        }
        self.binaries = binaries
        folder = URL(fileURLWithPath: "/tmp").appendingPathComponent("stellwerk-pg-\(UUID().uuidString.prefix(8))")
        port = try FreePort.find()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // initdb refuses to run as root; the cluster then belongs to the postgres user.
        let asRoot = getuid() == 0
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.path)
        let passwordFile = folder.appendingPathComponent("pwfile")
        try Data("\(Self.password)\n".utf8).write(to: passwordFile)
        if asRoot { try Self.run("/bin/chown", ["-R", "postgres:postgres", folder.path]) }
        try runAsOwner(
            "initdb",
            [
                "-D", folder.appendingPathComponent("data").path, "-U", "postgres", "-E", "UTF8", "--locale=C",
                "--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile=\(passwordFile.path)",
            ], asRoot: asRoot)
        // TLS on, with a certificate of a CA made for this server, so tests can ask for sslmode=verify-full.
        let tls = folder.appendingPathComponent("tls")
        try FileManager.default.createDirectory(at: tls, withIntermediateDirectories: true)
        try Data("subjectAltName=IP:127.0.0.1\n".utf8).write(to: tls.appendingPathComponent("ext.cnf"))
        for (arguments, what) in [
            (
                [
                    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                    "-subj", "/CN=stellwerk test CA", "-keyout", "ca.key", "-out", "ca.crt",
                ], "the test CA"
            ),
            (
                [
                    "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=127.0.0.1",
                    "-keyout", "server.key", "-out", "server.csr",
                ], "the server key"
            ),
            (
                [
                    "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                    "-days", "2",
                    "-extfile", "ext.cnf", "-out", "server.crt",
                ], "the server certificate"
            ),
        ] {
            do {
                try Self.run("/bin/sh", ["-c", "cd \"$0\" && exec openssl \"$@\"", tls.path] + arguments)
            } catch {
                throw TestServerError("cannot make \(what) with openssl (is the openssl package installed?): \(error)")
            }
        }
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o600], ofItemAtPath: tls.appendingPathComponent("server.key").path)
        if asRoot { try Self.run("/bin/chown", ["-R", "postgres:postgres", tls.path]) }
        certificateAuthority = tls.appendingPathComponent("ca.crt").path
        startOptions =
            "-p \(port) -k \(folder.path) -c listen_addresses=127.0.0.1 -c fsync=off "
            + "-c synchronous_commit=\(crashSafe ? "on" : "off") "
            + "-c full_page_writes=off -c max_connections=200 -c ssl=on "
            + "-c ssl_cert_file=\(tls.path)/server.crt -c ssl_key_file=\(tls.path)/server.key"
        try startBlocking()
        try stopWhenThisProcessEnds(asRoot: asRoot)
    }

    /// A server of its own, for a test that stops and starts it; it ends with the test process.
    package static func dedicated() async throws -> PostgresServer {
        try await offloaded { try PostgresServer(crashSafe: true) }
    }

    /// Stops the server at once, as a crash or `kill -9` would leave it.
    package func stop() async throws {
        let data = folder.appendingPathComponent("data").path
        try await offloaded {
            try self.runAsOwner("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"], asRoot: getuid() == 0)
        }
    }

    /// Starts the stopped server again, on the same port with the same data.
    package func start() async throws {
        try await offloaded { try self.startBlocking() }
    }

    private func startBlocking() throws {
        try runAsOwner(
            "pg_ctl",
            [
                "-D", folder.appendingPathComponent("data").path, "-l",
                folder.appendingPathComponent("server.log").path,
                "-o", startOptions, "-w", "-t", "60", "start",
            ], asRoot: getuid() == 0)
    }

    private func runAsOwner(_ tool: String, _ arguments: [String], asRoot: Bool) throws {
        let path = binaries.appendingPathComponent(tool).path
        if asRoot {
            try Self.run("/usr/sbin/runuser", ["-u", "postgres", "--", path] + arguments)
        } else {
            try Self.run(path, arguments)
        }
    }

    /// A URL for the superuser with the password, over TCP on loopback.
    package func url(database: String = "postgres", password: String = PostgresServer.password) -> String {
        "postgres://postgres:\(password)@127.0.0.1:\(port)/\(database)"
    }

    /// Creates a new empty database and returns its URL.
    package func createDatabase() async throws -> String {
        let name = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        _ = try await offloaded { [binaries, port] in
            try Self.run(
                binaries.appendingPathComponent("psql").path,
                [
                    "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", "postgres", "-q", "-c",
                    "CREATE DATABASE \(name)",
                ],
                environment: ["PGPASSWORD": Self.password])
        }
        return url(database: String(name))
    }

    /// A database owned by a login role of its own (as a service's database should be), and the
    /// URL that signs in as that role with its password.
    package func createOwnedDatabase() async throws -> String {
        let name = "svc_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12)
        let password = "pw-" + UUID().uuidString.prefix(8)
        _ = try await psql("CREATE ROLE \(name) LOGIN PASSWORD '\(password)'", database: "postgres")
        _ = try await psql("CREATE DATABASE \(name) OWNER \(name)", database: "postgres")
        return "postgresql://\(name):\(password)@127.0.0.1:\(port)/\(name)"
    }

    /// Runs SQL with psql as the user `url` names (its password taken from the URL).
    package func psql(_ sql: String, url: String) async throws -> String {
        let (plain, password) = Self.splitPassword(url)
        return try await offloaded { [binaries] in
            try Self.run(
                binaries.appendingPathComponent("psql").path,
                ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql, plain],
                environment: ["PGPASSWORD": password])
        }
    }

    /// The whole database `url` names, as plain SQL, with a fixed restrict key: two dumps of the
    /// same content are the same bytes.
    package func dump(url: String) async throws -> String {
        let (plain, password) = Self.splitPassword(url)
        return try await offloaded { [binaries] in
            try Self.run(
                binaries.appendingPathComponent("pg_dump").path,
                ["--format=plain", "--restrict-key=stellwerktest", plain], environment: ["PGPASSWORD": password])
        }
    }

    private static func splitPassword(_ url: String) -> (url: String, password: String) {
        var components = URLComponents(string: url)
        let password = components?.password ?? ""
        components?.password = nil
        return (components?.string ?? url, password)
    }

    /// Runs SQL in `database` with psql, behind any store's back (for tamper tests).
    package func psql(_ sql: String, database: String) async throws -> String {
        try await offloaded { [binaries, port] in
            try Self.run(
                binaries.appendingPathComponent("psql").path,
                ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", database, "-q", "-t", "-A", "-c", sql],
                environment: ["PGPASSWORD": Self.password])
        }
    }

    /// Runs a tool to completion, its output in a file: `pg_ctl start` leaves the server running with
    /// the tool's descriptors, so a pipe would never reach its end.
    @discardableResult
    private static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:]
    ) throws -> String {
        let log = "/tmp/stellwerk-run-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        let status = try Spawn.run(executable, arguments, environment: environment, standardOutput: log).status
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw TestServerError("\(executable) \(arguments.joined(separator: " ")) failed (\(status)): \(text)")
        }
        return text
    }

    /// Starts a small watcher that stops the server and removes its folder once this test process has
    /// gone, however it ended; Swift Testing has no hook that runs after the last test.
    private func stopWhenThisProcessEnds(asRoot: Bool) throws {
        let pgCtl = binaries.appendingPathComponent("pg_ctl").path
        let data = folder.appendingPathComponent("data").path
        let stop = (asRoot ? "/usr/sbin/runuser -u postgres -- " : "") + "\(pgCtl) -D '\(data)' -m immediate -w stop"
        try Spawn.whenThisProcessEnds("\(stop) >/dev/null 2>&1; rm -rf '\(folder.path)'")
    }

}

/// A test server that could not be started, with what to do about it.
package struct TestServerError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// Free TCP ports on loopback, for servers tests start.
package enum FreePort {
    /// A port nobody listens on right now (the kernel picks it; there is a small race until it is used).
    package static func find(host: String = "127.0.0.1") throws -> Int {
        let (socketHandle, port) = try bound(host: host)
        close(socketHandle)
        return port
    }

    /// A socket bound to a port the kernel picks on `host`, and that port.
    static func bound(host: String) throws -> (socket: Int32, port: Int) {
        let socketHandle = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketHandle >= 0 else { throw TestServerError("cannot open a socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        inet_pton(AF_INET, host, &address.sin_addr)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socketHandle, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            close(socketHandle)
            throw TestServerError("cannot bind a socket on \(host)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketHandle, $0, &length) }
        }
        return (socketHandle, Int(UInt16(bigEndian: address.sin_port)))
    }
}

/// A server that takes connections (the kernel completes them) and never says a word: what a hung
/// orchestrator looks like to a client.
package final class SilentListener {
    package let port: Int
    private var socketHandle: Int32

    package init(host: String = "127.0.0.1") throws {
        (socketHandle, port) = try FreePort.bound(host: host)
        guard listen(socketHandle, 16) == 0 else {
            close(socketHandle)
            throw TestServerError("cannot listen on \(host):\(port)")
        }
    }

    /// Hands the listening socket over to a caller that will accept on it (and close it).
    package func takeSocket() -> Int32 {
        let handle = socketHandle
        socketHandle = -1
        return handle
    }

    deinit { if socketHandle >= 0 { close(socketHandle) } }
}
