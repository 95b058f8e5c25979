import Crypto
package import FoundationEssentials
import Glibc
import StellwerkAPI

/// Files of an instance that changed behind the agent's back: the config files it rendered, compared
/// with what it wrote.
package enum Drift {
    /// The paths (relative to the release folder) whose content differs from what was written, or
    /// that are gone.
    package static func files(of instance: AgentState.Instance) -> [String] {
        let folder = URL(fileURLWithPath: instance.folder)
        return (instance.writtenFiles ?? [:]).compactMap { path, digest in
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(path).path) else {
                return path
            }
            return Self.digest(data) == digest ? nil : path
        }.sorted()
    }

    static func digest(_ data: Data) -> String {
        SHA256.hash(data: data).lowercaseHex
    }
}

/// Keeps a service's log file bounded: past its size limit it is copied to `NAME.1` (older copies move
/// up to `NAME.KEEP`) and emptied in place, so the service keeps writing to the file it has open.
package enum LogRotation {
    package static func rotateIfNeeded(_ log: URL, maxBytes: Int = 10 << 20, keep: Int = 3) {
        let manager = FileManager.default
        guard let size = (try? manager.attributesOfItem(atPath: log.path))?[.size] as? Int, size > maxBytes else {
            return
        }
        for index in stride(from: keep - 1, through: 1, by: -1) {
            let older = URL(fileURLWithPath: "\(log.path).\(index)")
            let next = URL(fileURLWithPath: "\(log.path).\(index + 1)")
            try? manager.removeItem(at: next)
            try? manager.moveItem(at: older, to: next)
        }
        let first = URL(fileURLWithPath: "\(log.path).1")
        try? manager.removeItem(at: first)
        try? manager.copyItem(at: log, to: first)
        truncate(log.path, 0)
    }
}
