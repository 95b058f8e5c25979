package import Foundation

/// Processes by the folder they work in: what an agent started for a test and left running when the
/// agent itself was stopped (it stops without its services, by design), such as nginx, whose command
/// line names no path of the test's.
package enum WorkingProcesses {
    /// Processes whose working folder is `folder` or inside it.
    package static func inside(_ folder: URL) -> [pid_t] {
        let root = folder.resolvingSymlinksInPath().path
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard pid != getpid(),
                let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")
            else { return false }
            return cwd == root || cwd.hasPrefix(root + "/")
        }
    }
}
