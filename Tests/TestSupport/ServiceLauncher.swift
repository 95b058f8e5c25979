package import Foundation

/// Starts a `datenplattform` service as a process of this test, stopped if the test process dies first,
/// and waits until `ready` says it answers.
package enum ServiceLauncher {
    package static func start(
        _ arguments: [String], in folder: URL, log: URL, marker: String, ready: () async -> Bool
    ) async throws -> pid_t {
        let pid = try Spawn.run(
            ProcessRunner.productsFolder.appendingPathComponent("datenplattform").path, arguments,
            directory: folder.path, standardOutput: log.path, wait: false
        ).pid
        // The command line check keeps a reused process ID from being hit.
        try Spawn.whenThisProcessEnds(
            "tr '\\0' ' ' < /proc/\(pid)/cmdline 2>/dev/null | grep -qF '\(marker)' && kill -TERM \(pid)")
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if await ready() { return pid }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestServerError(
            "\(arguments[0]) did not start: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
    }

    /// Stops a service this test started (SIGTERM, as the agent stops it) and waits for it to end;
    /// `pid` becomes 0, so stopping twice does nothing.
    package static func stop(_ pid: inout pid_t) {
        guard pid > 0 else { return }
        Spawn.terminate(pid)
        pid = 0
    }
}
