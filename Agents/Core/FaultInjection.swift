import FoundationEssentials
import Glibc

/// Lets fault tests stop the agent at a chosen step: with `STELLWERK_AGENT_PAUSE_AT=STEP` set, the agent
/// writes `paused-at-STEP` into its data folder when it reaches that step and waits there, so a test
/// can kill it at exactly that point. Without the variable it does nothing.
enum FaultInjection {
    private static let pauseStep = ProcessInfo.processInfo.environment["STELLWERK_AGENT_PAUSE_AT"]

    static func pauseIfAsked(at step: String, folder: URL) {
        guard let pauseStep, pauseStep == step else { return }
        _ = FileManager.default.createFile(
            atPath: folder.appendingPathComponent("paused-at-\(step)").path, contents: nil)
        while true { pause() }
    }
}
