import FoundationEssentials
import Glibc

/// Stops a service the way the blueprint asks: SIGTERM to its whole process group, then SIGKILL once
/// the grace period is over.
package enum StopProcess {
    /// Stops `process`; returns how it ended.
    @discardableResult
    package static func stop(_ process: ProcessIdentity, grace: Duration) async -> Outcome {
        guard process.isRunning else {
            reap(process)
            return .alreadyGone
        }
        // The service leads its own session and group (StartProcess), so its children stop with it.
        kill(-process.pid, SIGTERM)
        if await waitForExit(process, within: grace) { return .terminated }
        kill(-process.pid, SIGKILL)
        kill(process.pid, SIGKILL)
        _ = await waitForExit(process, within: .seconds(5))
        return .killed
    }

    package enum Outcome: Sendable, Hashable {
        case alreadyGone, terminated, killed
    }

    /// Waits until `process` is gone, reaping it when it is a child of the agent.
    package static func waitForExit(_ process: ProcessIdentity, within limit: Duration) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while clock.now < deadline {
            reap(process)
            if !process.isRunning { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        reap(process)
        return !process.isRunning
    }

    /// A `waitpid` status as a shell shows it: the exit code, or 128 plus the signal that ended it.
    /// (WIFEXITED and WEXITSTATUS are macros Swift does not import.)
    static func exitCode(fromWaitStatus status: Int32) -> Int32 {
        (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// Collects the exit status of a child that has ended, so it does not linger as a zombie.
    static func reap(_ process: ProcessIdentity) {
        var status: Int32 = 0
        _ = waitpid(process.pid, &status, WNOHANG)
    }
}
