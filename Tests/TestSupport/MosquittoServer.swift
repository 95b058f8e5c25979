package import Foundation

/// A throwaway Mosquitto broker for a test: its own folder, a loopback address and free port, anonymous
/// access, and persistence in the folder, so a restart keeps the sessions and queued messages of
/// clients with a persistent session (as a production broker does).
///
/// With `CI=true` a missing Mosquitto is a failure, never a skip.
package final class MosquittoServer: @unchecked Sendable {
    package let host: String
    package let port: Int
    package let folder: URL
    private var pid: pid_t = 0

    package static let executable = "/usr/sbin/mosquitto"

    /// Whether tests that need Mosquitto must run: always in CI, else when it is installed.
    package static var shouldRun: Bool {
        ProcessInfo.processInfo.environment["CI"] == "true"
            || FileManager.default.isExecutableFile(atPath: executable)
    }

    /// Starts a broker on `host` (a loopback address of the test's own) and waits until it listens.
    package init(host: String, anonymous: Bool = true, extraConfiguration: String = "") throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw TestServerError("Mosquitto is not installed (no \(Self.executable)); install the mosquitto package")
        }
        self.host = host
        port = try FreePort.find(host: host)
        folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent(
            "stellwerk-mqtt-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // Mosquitto started as root drops to the `mosquitto` user unless told to stay: the folder is
        // this test's, so it stays who the test is.
        let user = String(cString: getpwuid(getuid()).pointee.pw_name)
        let configuration = """
            listener \(port) \(host)
            allow_anonymous \(anonymous)
            user \(user)
            persistence true
            persistence_location \(folder.path)/
            log_dest file \(folder.path)/mosquitto.log
            log_type error
            log_type warning
            log_type notice
            \(extraConfiguration)
            """
        try configuration.write(to: folder.appendingPathComponent("mosquitto.conf"), atomically: true, encoding: .utf8)
        try start()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: folder)
    }

    /// Starts the broker again after `stop`, on the same address, with what it persisted.
    package func start() throws {
        guard pid == 0 else { return }
        let log = { [self] in self.log }
        pid = try Spawn.server(
            Self.executable, ["-c", folder.appendingPathComponent("mosquitto.conf").path], marker: folder.path,
            host: host, port: port, name: "mosquitto", directory: folder.path,
            standardOutput: folder.appendingPathComponent("stdout.log").path, log: log)
    }

    /// Stops the broker (SIGTERM: it saves its persistence file) and waits until it is gone.
    package func stop() {
        guard pid > 0 else { return }
        Spawn.terminate(pid)
        pid = 0
    }

    /// What the broker logged, for failure messages.
    package var log: String {
        ((try? String(contentsOf: folder.appendingPathComponent("mosquitto.log"), encoding: .utf8)) ?? "")
            + ((try? String(contentsOf: folder.appendingPathComponent("stdout.log"), encoding: .utf8)) ?? "")
    }

    /// Whether a TCP connection to `host`:`port` is accepted (a server listens).
    package static func accepts(host: String, port: Int) -> Bool {
        let socketHandle = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketHandle >= 0 else { return false }
        defer { close(socketHandle) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        inet_pton(AF_INET, host, &address.sin_addr)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketHandle, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        } == 0
    }
}
