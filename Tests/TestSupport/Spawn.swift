package import Foundation

/// Runs a program with posix_spawn and waits for it with waitpid: no run loop, no pipes, so it works
/// from any thread and cannot hang on descriptors that a daemonising child keeps open.
package enum Spawn {
    /// Runs `executable` with `arguments`, its output appended to `outputFile` (or discarded), and
    /// returns its exit status.
    @discardableResult
    package static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], outputFile: String? = nil,
        wait: Bool = true
    ) throws -> (pid: pid_t, status: Int32) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let output = outputFile ?? "/dev/null"
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let merged = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else {
            throw TestServerError("cannot start \(executable): \(String(cString: strerror(spawned)))")
        }
        guard wait else { return (pid, 0) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS are macros Swift does not import.
        let exited = (status & 0x7f) == 0
        return (pid, exited ? (status >> 8) & 0xff : 128 + (status & 0x7f))
    }
}
