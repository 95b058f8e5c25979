package import Foundation

/// A throwaway ssh-agent holding one key, on a socket in its own folder: for tests that sign in
/// through an agent, as an operator with a passphrase-protected key does.
package final class SSHAgent: @unchecked Sendable {
    package let socket: String
    private let folder: URL
    private var pid: pid_t = 0

    package static let executable = "/usr/bin/ssh-agent"

    /// Starts the agent and adds `key` to it.
    package init(holding key: URL) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw TestServerError("OpenSSH's agent is not installed (no \(Self.executable)); install openssh-client")
        }
        folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent(
            "stellwerk-ssh-agent-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        socket = folder.appendingPathComponent("agent.sock").path
        // -D: in the foreground, so this test holds its process.
        pid = try Spawn.run(Self.executable, ["-D", "-a", socket], wait: false).pid
        try Spawn.whenThisProcessEnds(
            "tr '\\0' ' ' < /proc/\(pid)/cmdline 2>/dev/null | grep -qF '\(socket)' && kill -TERM \(pid)")
        // The socket file appears before the agent listens on it: adding is tried until it takes.
        let deadline = Date().addingTimeInterval(10)
        while try Spawn.run("/usr/bin/ssh-add", ["-q", key.path], environment: ["SSH_AUTH_SOCK": socket]).status != 0 {
            guard Date() < deadline else { throw TestServerError("ssh-add \(key.path) failed for 10 s") }
            usleep(20_000)
        }
    }

    deinit {
        Spawn.terminate(pid)
        try? FileManager.default.removeItem(at: folder)
    }
}
