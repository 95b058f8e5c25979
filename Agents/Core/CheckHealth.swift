import Dispatch
package import FoundationEssentials
import Glibc
import HTTPTransport
import NIOCore
import NIOHTTP1
import NIOPosix
package import StellwerkAPI

/// Probes an instance's health the way its blueprint says: an HTTP request, a TCP connect, or a
/// command in the instance's folder. HTTP and TCP go through SwiftNIO, so a node's address may be an
/// IPv4 or IPv6 address or a host name.
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

    /// The probes' client: a fresh connection per probe (`Connection: close`), as a monitor's would be.
    private static let http = HTTPExchange()

    /// Runs the probe once, within the spec's timeout.
    package static func probe(_ spec: HealthCheckSpec, host: String, directory: URL) async -> Result {
        let timeout = Duration.seconds(spec.timeoutSeconds)
        switch spec.probe {
        case .http(let port, let path, let status):
            return await httpGet(host: host, port: port, path: path, expect: status, timeout: timeout)
        case .tcp(let port):
            return await tcpConnect(host: host, port: port, timeout: timeout)
        case .command(let command):
            return await CommandProbe.run(command, directory: directory, timeout: timeout)
        }
    }

    /// Waits for the instance to become healthy: probes at once, then after pauses that start at 10 ms
    /// and double up to the interval (at most 1 s), so a service ready in 50 ms is seen ready then;
    /// fails after `retries` failed probes past the start period, or at `deadline`.
    package static func waitUntilHealthy(
        _ spec: HealthCheckSpec, host: String, directory: URL, deadline: Duration,
        stillRunning: @Sendable () -> Bool = { true }
    ) async -> Result {
        let clock = ContinuousClock()
        let started = clock.now
        let startPeriodEnds = started + .seconds(spec.startPeriodSeconds)
        var failures = 0
        var last = Result(healthy: false, detail: "not probed yet")
        let longest = Duration.seconds(min(max(spec.intervalSeconds, 1), 1))
        var pause = Duration.milliseconds(10)
        var lastCounted = started
        var lastProbed = started
        while clock.now - started < deadline {
            guard stillRunning() else { return Result(healthy: false, detail: "the process exited (\(last.detail))") }
            last = await probe(spec, host: host, directory: directory)
            if last.healthy { return last }
            // Past the start period, a failure counts once per interval, however often it was probed.
            if clock.now >= startPeriodEnds, clock.now - lastCounted >= longest || pause >= longest {
                failures += 1
                lastCounted = clock.now
                if failures > spec.retries { return last }
            }
            lastProbed = clock.now
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, longest)
        }
        // A busy agent may come back to the wait only after the deadline, its last probe long past:
        // judge by one made now, not by what was seen then.
        if clock.now - lastProbed > longest, stillRunning() {
            last = await probe(spec, host: host, directory: directory)
            if last.healthy { return last }
        }
        return Result(healthy: false, detail: "not healthy within \(deadline): \(last.detail)")
    }

    /// `GET path` and the answer's status line, decided on the event loop: the answer or the timeout,
    /// whichever comes first there. A busy process resumes the caller late, but never turns an answer
    /// that came in time into a timeout.
    private static func httpGet(
        host: String, port: Int, path: String, expect: Int, timeout: Duration
    ) async
        -> Result
    {
        let group = MultiThreadedEventLoopGroup.singleton
        let eventLoop = group.next()
        let status = eventLoop.makePromise(of: Int.self)
        let deadline = eventLoop.scheduleTask(in: .nanoseconds(timeout.nanoseconds)) {
            status.fail(HTTPExchange.Failure.timedOut)
        }
        let authority = host.contains(":") ? "[\(host)]" : host
        let head = HTTPRequestHead(
            version: .http1_1, method: .GET, uri: path.hasPrefix("/") ? path : "/" + path,
            headers: ["Host": "\(authority):\(port)", "User-Agent": "stellwerk-agent", "Connection": "close"])
        let connected = ClientBootstrap(group: eventLoop)
            .connectTimeout(.nanoseconds(timeout.nanoseconds))
            .channelInitializer { channel in
                channel.pipeline.addHTTPClientHandlers().flatMap {
                    channel.pipeline.addHandler(StatusLineHandler(status: status))
                }
            }
            .connect(host: host, port: port)
        connected.whenSuccess { channel in
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        }
        connected.whenFailure { status.fail($0) }
        status.futureResult.whenComplete { _ in
            deadline.cancel()
            connected.whenSuccess { $0.close(promise: nil) }
        }
        do {
            let code = try await status.futureResult.get()
            return Result(healthy: code == expect, detail: "HTTP \(code)")
        } catch {
            return Result(healthy: false, detail: reason(error))
        }
    }

    /// A TCP connect, timed out by NIO itself (on the event loop, see ``httpGet``).
    private static func tcpConnect(host: String, port: Int, timeout: Duration) async -> Result {
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.nanoseconds(timeout.nanoseconds))
                .connect(host: host, port: port).get()
            try? await channel.close()
            return Result(healthy: true, detail: "port \(port) open")
        } catch {
            return Result(healthy: false, detail: reason(error))
        }
    }

    /// What an operator reads for a failed connection: `connection refused`, `timed out`, or the
    /// system's own words.
    static func reason(_ error: any Error) -> String {
        switch error {
        case HTTPExchange.Failure.timedOut, ChannelError.connectTimeout: return "timed out"
        case HTTPExchange.Failure.notAnswered(let cause), HTTPExchange.Failure.notSent(let cause): return reason(cause)
        case let error as NIOConnectionError:
            return error.connectionErrors.first.map { reason($0.error) } ?? "cannot connect to \(error.host)"
        case let error as IOError:
            return error.errnoCode == ECONNREFUSED ? "connection refused" : String(cString: strerror(error.errnoCode))
        default: return "\(error)"
        }
    }
}

/// Fulfils the probe's promise with the status of the first answer; the rest does not matter.
private final class StatusLineHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPClientResponsePart
    let status: EventLoopPromise<Int>

    init(status: EventLoopPromise<Int>) { self.status = status }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) { status.succeed(Int(head.status.code)) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        status.fail(HTTPExchange.Failure.closedEarly)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        status.fail(error)
        context.close(promise: nil)
    }
}

extension Duration {
    /// The duration in whole nanoseconds, for NIO's time amounts.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// A health command, run in the instance's folder with a time limit. The wait runs on a Dispatch
/// thread, measured there in real time: a busy process must not report a command that ended in time
/// as timed out, nor one that ran too long as healthy.
enum CommandProbe {
    static func run(_ command: [String], directory: URL, timeout: Duration) async -> CheckHealth.Result {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: runBlocking(command, directory: directory, timeout: timeout))
            }
        }
    }

    private static func runBlocking(_ command: [String], directory: URL, timeout: Duration) -> CheckHealth.Result {
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
            if waitpid(identity.pid, &status, WNOHANG) == identity.pid {
                let code = StopProcess.exitCode(fromWaitStatus: status)
                return CheckHealth.Result(healthy: code == 0, detail: "exit status \(code)")
            }
            usleep(5_000)
        }
        kill(-identity.pid, SIGKILL)
        _ = waitpid(identity.pid, &status, 0)
        return CheckHealth.Result(healthy: false, detail: "timed out")
    }
}
