import Foundation

/// Processes `stellwerk up` starts and `stellwerk down` stops: each in a process group of its own (so
/// Ctrl-C reaches `up`, which then stops them in order), its output in a log file, and recognised
/// later by its command line naming the state folder, so a reused process ID is never hit.
enum LocalProcesses {
    /// Starts `executable` with `arguments`; returns its process ID.
    static func start(_ executable: String, _ arguments: [String], log: URL) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // `up` ignores SIGINT and SIGTERM while it waits for them; its children must not inherit that.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard status == 0 else {
            throw CLIError("cannot start \(executable): \(String(cString: strerror(status)))")
        }
        return pid
    }

    /// Runs `executable` in `folder` to its end, its output appended to `log`; returns its exit status
    /// and what it wrote in this run.
    static func run(
        _ executable: String, _ arguments: [String], in folder: URL, log: URL
    ) throws -> (
        status: Int32, text: String
    ) {
        let before = (try? FileManager.default.attributesOfItem(atPath: log.path)[.size] as? Int) ?? 0
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = folder
        if !FileManager.default.fileExists(atPath: log.path) {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let all = FileManager.default.contents(atPath: log.path) ?? Data()
        return (process.terminationStatus, String(decoding: all.dropFirst(before), as: UTF8.self))
    }

    /// Whether `pid` is alive and its command line contains `marker`.
    static func isRunning(_ pid: pid_t, marker: String) -> Bool {
        guard pid > 0, let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let commandLine = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
        // A zombie (ended, not yet waited for) has an empty command line.
        return commandLine.contains(marker)
    }

    /// Sends SIGTERM and waits up to `seconds` for the process to end; then SIGKILL.
    static func stop(_ pid: pid_t, marker: String, seconds: Int = 30) {
        guard isRunning(pid, marker: marker) else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(TimeInterval(seconds))
        while Date() < deadline {
            reap(pid)
            if !isRunning(pid, marker: marker) { return }
            usleep(100_000)
        }
        kill(pid, SIGKILL)
        reap(pid)
    }

    /// Collects an ended child of this process, so it does not linger as a zombie.
    static func reap(_ pid: pid_t) {
        var status: Int32 = 0
        _ = waitpid(pid, &status, WNOHANG)
    }

    /// Processes whose working folder is inside `folder` (the services the agents started there).
    static func working(in folder: URL) -> [pid_t] {
        let root = folder.resolvingSymlinksInPath().path
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard pid != getpid(),
                let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")
            else { return false }
            return cwd == root || cwd.hasPrefix(root + "/")
        }
    }

    /// The session `pid` belongs to (its own ID for a session leader), from `/proc/PID/stat`; the
    /// process ID itself when that cannot be read.
    static func session(_ pid: pid_t) -> pid_t {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return pid }
        // After the command's closing parenthesis: state, parent, process group, session.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        return fields.count > 3 ? pid_t(fields[3]) ?? pid : pid
    }

    /// Whether something already listens on `host:port`.
    static func isTaken(host: String, port: Int) -> Bool {
        let handle = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard handle >= 0 else { return false }
        defer { close(handle) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(handle, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return result == 0
    }
}
