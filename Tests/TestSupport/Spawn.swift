package import Foundation

/// Runs a program with posix_spawn and waits for it with waitpid: no run loop, and output goes to
/// files rather than pipes, so it works from any thread and cannot hang on a pipe that some other
/// child (a daemonised server) inherited and keeps open.
package enum Spawn {
    /// Runs `executable` with `arguments` in `directory`, its standard output and error appended to the
    /// given files (or discarded; errors go with the output when `standardError` is nil), its standard
    /// input read from `standardInput` (else empty), and returns its
    /// process ID and, when `wait`, its exit status.
    @discardableResult
    package static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], directory: String? = nil,
        standardOutput: String? = nil, standardError: String? = nil, standardInput: String? = nil, wait: Bool = true
    ) throws -> (pid: pid_t, status: Int32) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, standardInput ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(
            &actions, 1, standardOutput ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        if let standardError {
            posix_spawn_file_actions_addopen(&actions, 2, standardError, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        // Keep our other descriptors out of the child (closefrom is not imported into Swift).
        for descriptor in openDescriptors() where descriptor > 2 {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }

        var program = executable
        var argumentList = arguments
        if let directory {
            // posix_spawn cannot change directory portably; a shell does, then becomes the program.
            program = "/bin/sh"
            argumentList = ["-c", "cd \"$0\" && exec \"$@\"", directory, executable] + arguments
        }
        let merged = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let argv = ([program] + argumentList).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        // The child starts with no signal blocked and the usual dispositions: a test's worker threads
        // (Dispatch's) block signals, and a server that inherited a blocked SIGTERM never stops.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, program, &actions, &attributes, argv, envp)
        guard spawned == 0 else {
            throw TestServerError("cannot start \(executable): \(String(cString: strerror(spawned)))")
        }
        guard wait else { return (pid, 0) }
        return (pid, waitForExit(pid))
    }

    /// Like `run`, and also says the most anonymous memory (heap and stacks, not the program's own
    /// code pages) the program held, sampled every few milliseconds from /proc while it runs.
    package static func runSamplingMemory(
        _ executable: String, _ arguments: [String], standardOutput: String? = nil, standardError: String? = nil
    ) throws -> (status: Int32, peakAnonymousBytes: Int) {
        let pid = try run(
            executable, arguments, standardOutput: standardOutput, standardError: standardError, wait: false
        ).pid
        var peak = 0
        var status: Int32 = 0
        while true {
            if let anonymous = ProcessStatus.bytes("RssAnon", of: String(pid)) { peak = max(peak, anonymous) }
            let done = waitpid(pid, &status, WNOHANG)
            if done == pid || (done == -1 && errno != EINTR) { break }
            usleep(5_000)
        }
        let exited = (status & 0x7f) == 0
        return (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), peak)
    }

    /// Waits for `pid` to exit and returns its exit status (128 + the signal when a signal ended it).
    @discardableResult
    package static func waitForExit(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS are macros Swift does not import.
        let exited = (status & 0x7f) == 0
        return exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    private static func openDescriptors() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
    }
}

extension Spawn {
    /// Ends a process this test started (SIGTERM) and waits for it; nothing for a PID of 0.
    package static func terminate(_ pid: pid_t) {
        guard pid > 0 else { return }
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    /// Runs `command` in a shell once this test process has gone, however it ended (Swift Testing has
    /// no hook after the last test), so a crashed test run leaves no servers or agents behind.
    package static func whenThisProcessEnds(_ command: String) throws {
        try run("/bin/sh", ["-c", "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; \(command)"], wait: false)
    }
}

/// Runs blocking work (waiting for a process, starting a database) on a Dispatch thread, so it does
/// not hold one of Swift's few cooperative threads: on a 2-core machine two blocked tests would stall
/// every other test's awaits, and health probes and timeouts with them.
package func offloaded<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}

extension Spawn {
    /// Starts a test server that stays in the foreground: stopped with this test process should it
    /// die first (matched by `marker` in its command line), and waited for until `host`:`port`
    /// accepts connections. Throws with `log()` when it ends at start or does not listen in 10 s.
    package static func server(
        _ executable: String, _ arguments: [String], marker: String, host: String, port: Int, name: String,
        directory: String? = nil, standardOutput: String, log: () -> String
    ) throws -> pid_t {
        let pid = try run(
            executable, arguments, directory: directory, standardOutput: standardOutput, wait: false
        ).pid
        try whenThisProcessEnds(
            "tr '\\0' ' ' < /proc/\(pid)/cmdline 2>/dev/null | grep -qF '\(marker)' && kill -TERM \(pid)")
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if MosquittoServer.accepts(host: host, port: port) { return pid }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { throw TestServerError("\(name) ended at start: \(log())") }
            usleep(20_000)
        }
        throw TestServerError("\(name) did not listen on \(host):\(port) within 10 s: \(log())")
    }
}
