import AgentCore
import Foundation
import StellwerkAPI
import TestSupport
import Testing

/// Starting, probing and stopping real service processes, as the agent does.
@Suite struct ProcessSupervisionTests {
    static var testService: String {
        ProcessRunner.productsFolder.appendingPathComponent("stellwerk-test-service").path
    }

    private func start(_ arguments: [String], port: Int) throws -> (ProcessIdentity, URL) {
        let folder = try Fixtures.temporaryFolder("stellwerk-instance")
        let log = folder.appendingPathComponent("service.log")
        let process = try StartProcess.start(
            Self.testService, arguments: ["--host", "127.0.0.1", "--port", String(port)] + arguments, directory: folder,
            environment: ["PATH": "/usr/bin:/bin"], log: log)
        return (process, folder)
    }

    /// Generous retries and deadlines: these machines are shared, and a loaded one starts a process slowly.
    private func http(port: Int, status: Int = 200) -> HealthCheckSpec {
        HealthCheckSpec(
            probe: .http(port: port, path: "/health", status: status), intervalSeconds: 1, timeoutSeconds: 1,
            retries: 5, startPeriodSeconds: 0)
    }

    @Test func service_startsInItsOwnSession_becomesHealthy_andStopsOnSIGTERM() async throws {
        let port = try FreePort.find()
        let (process, folder) = try start([], port: port)
        #expect(process.isRunning)
        #expect(getsid(process.pid) == process.pid)

        let result = await CheckHealth.waitUntilHealthy(
            http(port: port), host: "127.0.0.1", directory: folder, deadline: .seconds(60))
        let log = try String(contentsOf: folder.appendingPathComponent("service.log"), encoding: .utf8)
        #expect(
            result == CheckHealth.Result(healthy: true, detail: "HTTP 200"),
            "log: \(log) running: \(process.isRunning) listening: \((try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8))?.contains(String(format: ":%04X 00000000:0000 0A", port)) ?? false)"
        )
        #expect(log.hasPrefix("test-service \(process.pid) listening"))

        #expect(await StopProcess.stop(process, grace: .seconds(5)) == .terminated)
        #expect(!process.isRunning)
        #expect(await StopProcess.stop(process, grace: .seconds(1)) == .alreadyGone)
    }

    @Test func service_ignoringSIGTERM_isKilledAfterTheGracePeriod() async throws {
        let port = try FreePort.find()
        let (process, folder) = try start(["--ignore-sigterm"], port: port)
        _ = await CheckHealth.waitUntilHealthy(
            http(port: port), host: "127.0.0.1", directory: folder, deadline: .seconds(60))
        let clock = ContinuousClock()
        let began = clock.now
        #expect(await StopProcess.stop(process, grace: .milliseconds(500)) == .killed)
        #expect(clock.now - began >= .milliseconds(500))
        #expect(!process.isRunning)
    }

    @Test func unhealthyService_isReportedWithWhatTheProbeSaw() async throws {
        let port = try FreePort.find()
        let (process, folder) = try start(["--health", "503"], port: port)
        let result = await CheckHealth.waitUntilHealthy(
            http(port: port), host: "127.0.0.1", directory: folder, deadline: .seconds(60))
        #expect(result == CheckHealth.Result(healthy: false, detail: "HTTP 503"))
        await StopProcess.stop(process, grace: .seconds(1))
    }

    @Test func crashingService_endsTheWaitWithoutWaitingForTheDeadline() async throws {
        let port = try FreePort.find()
        let (process, folder) = try start(["--health", "503", "--crash-after", "0.3"], port: port)
        let spec = HealthCheckSpec(
            probe: .http(port: port, path: "/health", status: 200), intervalSeconds: 1, timeoutSeconds: 1, retries: 100,
            startPeriodSeconds: 60)
        // Ending at the deadline would say "not healthy within"; the exit is noticed long before.
        let result = await CheckHealth.waitUntilHealthy(
            spec, host: "127.0.0.1", directory: folder, deadline: .seconds(120),
            stillRunning: {
                _ = waitpid(process.pid, nil, WNOHANG)
                return process.isRunning
            })
        #expect(!result.healthy)
        #expect(result.detail.hasPrefix("the process exited"))
    }

    @Test func serviceStandardError_reachesItsLogFile() async throws {
        let port = try FreePort.find()
        let (process, folder) = try start(["--crash-after", "0.2"], port: port)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        while clock.now < deadline {
            _ = waitpid(process.pid, nil, WNOHANG)
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(!process.isRunning)
        // The crash message goes to stderr: an operator reading the log must see why it ended.
        let log = try String(contentsOf: folder.appendingPathComponent("service.log"), encoding: .utf8)
        #expect(log.contains("test-service \(process.pid) listening"), "\(log)")
        #expect(log.contains("test-service: crashing as asked"), "\(log)")
    }

    @Test func probes_reportRefusedPortsAndCommandExitStatus() async throws {
        let closed = try FreePort.find()
        let folder = try Fixtures.temporaryFolder()
        let tcp = HealthCheckSpec(
            probe: .tcp(port: closed), intervalSeconds: 1, timeoutSeconds: 1, retries: 0, startPeriodSeconds: 0)
        #expect(
            await CheckHealth.probe(tcp, host: "127.0.0.1", directory: folder)
                == .init(healthy: false, detail: "connection refused"))

        try Data("ok".utf8).write(to: folder.appendingPathComponent("ready"))
        let present = HealthCheckSpec(
            probe: .command(["test", "-f", "ready"]), intervalSeconds: 1, timeoutSeconds: 2, retries: 0,
            startPeriodSeconds: 0)
        #expect(
            await CheckHealth.probe(present, host: "127.0.0.1", directory: folder)
                == .init(healthy: true, detail: "exit status 0"))
        let missing = HealthCheckSpec(
            probe: .command(["test", "-f", "missing"]), intervalSeconds: 1, timeoutSeconds: 2, retries: 0,
            startPeriodSeconds: 0)
        #expect(
            await CheckHealth.probe(missing, host: "127.0.0.1", directory: folder)
                == .init(healthy: false, detail: "exit status 1"))
        let slow = HealthCheckSpec(
            probe: .command(["sleep", "5"]), intervalSeconds: 1, timeoutSeconds: 1, retries: 0, startPeriodSeconds: 0)
        #expect(
            await CheckHealth.probe(slow, host: "127.0.0.1", directory: folder)
                == .init(healthy: false, detail: "timed out"))
    }

    @Test func identity_isNotFooledByAReusedProcessID() async throws {
        let port = try FreePort.find()
        let (process, _) = try start([], port: port)
        #expect(ProcessIdentity.of(pid: process.pid) == process)
        let impostor = ProcessIdentity(pid: process.pid, startTime: process.startTime + 1)
        #expect(!impostor.isRunning)
        await StopProcess.stop(process, grace: .seconds(2))
        #expect(ProcessIdentity.of(pid: process.pid) == nil)
    }
}
