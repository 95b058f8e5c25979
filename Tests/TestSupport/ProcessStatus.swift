import Foundation

/// Memory figures of a process from `/proc/PID/status`, for tests and benchmarks.
package enum ProcessStatus {
    /// `field` (`VmRSS`, `RssAnon`, …) of process `pid` ("self" for this one) in bytes; nil when
    /// the process is gone or has no such line.
    package static func bytes(_ field: String, of pid: String = "self") -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
            let kilobytes = line.split(separator: " ").compactMap({ Int($0) }).first
        else { return nil }
        return kilobytes * 1024
    }
}
