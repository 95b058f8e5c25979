import Dispatch
package import FoundationEssentials
import Glibc
package import StellwerkAPI

/// Probes an instance's health the way its blueprint says: an HTTP request, a TCP connect, or a
/// command in the instance's folder.
package enum CheckHealth {
    /// The outcome of one probe.
    package struct Result: Sendable, Hashable, CustomStringConvertible {
        package var healthy: Bool
        /// What was seen: `HTTP 200`, `HTTP 503`, `connection refused`, `exit status 1`, `timed out`.
        package var detail: String

        package init(healthy: Bool, detail: String) {
            self.healthy = healthy
            self.detail = detail
        }

        package var description: String { detail }
    }

    /// Runs the probe once, within the spec's timeout.
    package static func probe(_ spec: HealthCheckSpec, host: String, directory: URL) async -> Result {
        let timeout = Duration.seconds(spec.timeoutSeconds)
        switch spec.probe {
        case .http(let port, let path, let status):
            return await offload { HTTPProbe.get(host: host, port: port, path: path, expect: status, timeout: timeout) }
        case .tcp(let port):
            return await offload {
                switch TCPConnection.open(host: host, port: port, timeout: timeout) {
                case .success(let socket):
                    close(socket)
                    return Result(healthy: true, detail: "port \(port) open")
                case .failure(let reason):
                    return Result(healthy: false, detail: reason.description)
                }
            }
        case .command(let command):
            return await offload { CommandProbe.run(command, directory: directory, timeout: timeout) }
        }
    }

    /// Waits for the instance to become healthy: after the start period, probes every interval until
    /// one succeeds; fails after `retries` failed probes past the start period, or at `deadline`.
    package static func waitUntilHealthy(
        _ spec: HealthCheckSpec, host: String, directory: URL, deadline: Duration,
        stillRunning: @Sendable () -> Bool = { true }
    ) async -> Result {
        let clock = ContinuousClock()
        let started = clock.now
        let startPeriodEnds = started + .seconds(spec.startPeriodSeconds)
        var failures = 0
        var last = Result(healthy: false, detail: "not probed yet")
        while clock.now - started < deadline {
            guard stillRunning() else { return Result(healthy: false, detail: "the process exited (\(last.detail))") }
            last = await probe(spec, host: host, directory: directory)
            if last.healthy { return last }
            if clock.now >= startPeriodEnds {
                failures += 1
                if failures > spec.retries { return last }
            }
            try? await Task.sleep(for: .seconds(min(spec.intervalSeconds, 1)))
        }
        return Result(healthy: false, detail: "not healthy within \(deadline): \(last.detail)")
    }

    private static func offload(_ body: @escaping @Sendable () -> Result) async -> Result {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: body()) }
        }
    }
}

/// A TCP connection with a timeout on connecting, reading and writing.
enum TCPConnection {
    static func open(host: String, port: Int, timeout: Duration) -> Swift.Result<Int32, ProcessError> {
        let socketHandle = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard socketHandle >= 0 else { return .failure(ProcessError("cannot open a socket")) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(truncatingIfNeeded: port).bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            close(socketHandle)
            return .failure(ProcessError("\(host) is not an IPv4 address"))
        }
        var limit = timeval(
            tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        setsockopt(socketHandle, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socketHandle, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketHandle, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let reason = errno == ECONNREFUSED ? "connection refused" : String(cString: strerror(errno))
            close(socketHandle)
            return .failure(ProcessError(reason))
        }
        return .success(socketHandle)
    }
}

/// `GET path` over HTTP/1.1, enough to read the status line of a health endpoint.
enum HTTPProbe {
    static func get(host: String, port: Int, path: String, expect: Int, timeout: Duration) -> CheckHealth.Result {
        let socketHandle: Int32
        switch TCPConnection.open(host: host, port: port, timeout: timeout) {
        case .success(let handle): socketHandle = handle
        case .failure(let reason): return CheckHealth.Result(healthy: false, detail: reason.description)
        }
        defer { close(socketHandle) }
        let request =
            "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUser-Agent: stellwerk-agent\r\nConnection: close\r\n\r\n"
        let sent = request.withCString { send(socketHandle, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        guard sent > 0 else { return CheckHealth.Result(healthy: false, detail: "cannot send the request") }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while response.count < 16_384, !response.contains(10) {
            let count = recv(socketHandle, &buffer, buffer.count, 0)
            if count < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                return CheckHealth.Result(healthy: false, detail: "timed out")
            }
            guard count > 0 else { break }
            response += buffer[0..<count]
        }
        let statusLine = String(decoding: response.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
            return CheckHealth.Result(healthy: false, detail: "no HTTP answer")
        }
        return CheckHealth.Result(healthy: status == expect, detail: "HTTP \(status)")
    }
}

/// A health command, run in the instance's folder with a time limit.
enum CommandProbe {
    static func run(_ command: [String], directory: URL, timeout: Duration) -> CheckHealth.Result {
        guard let program = command.first else { return CheckHealth.Result(healthy: false, detail: "no command") }
        let log = URL(fileURLWithPath: "/dev/null")
        let identity: ProcessIdentity
        do {
            let path = program.hasPrefix("/") || program.contains("/") ? program : "/usr/bin/env"
            let arguments = path == "/usr/bin/env" ? command : Array(command.dropFirst())
            identity = try StartProcess.start(
                path, arguments: arguments, directory: directory, environment: ProcessInfo.processInfo.environment,
                log: log)
        } catch {
            return CheckHealth.Result(healthy: false, detail: error.description)
        }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var status: Int32 = 0
        while clock.now < deadline {
            let result = waitpid(identity.pid, &status, WNOHANG)
            if result == identity.pid {
                let code = StopProcess.exitCode(fromWaitStatus: status)
                return CheckHealth.Result(healthy: code == 0, detail: "exit status \(code)")
            }
            usleep(10_000)
        }
        kill(-identity.pid, SIGKILL)
        _ = waitpid(identity.pid, &status, 0)
        return CheckHealth.Result(healthy: false, detail: "timed out")
    }
}
