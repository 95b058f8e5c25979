import FoundationEssentials

/// A process as the agent recorded it: its ID and the kernel's start time for it, so a process ID
/// that was reused by something else after a reboot or crash is never mistaken for the service.
package struct ProcessIdentity: Codable, Sendable, Hashable, CustomStringConvertible {
    package var pid: Int32
    /// Clock ticks since boot at which the process started (field 22 of /proc/PID/stat).
    package var startTime: UInt64

    package init(pid: Int32, startTime: UInt64) {
        self.pid = pid
        self.startTime = startTime
    }

    /// The identity of a running process, or `nil` when there is no such process.
    package static func of(pid: Int32) -> ProcessIdentity? {
        guard let stat = ProcStat(pid: pid) else { return nil }
        return ProcessIdentity(pid: pid, startTime: stat.startTime)
    }

    /// Whether this very process still runs (not a zombie, not a later process with the same ID).
    package var isRunning: Bool {
        guard let stat = ProcStat(pid: pid) else { return false }
        return stat.startTime == startTime && stat.state != "Z" && stat.state != "X"
    }

    package var description: String { "pid \(pid)" }
}

/// The fields of /proc/PID/stat the agent needs.
struct ProcStat {
    var state: Character
    var startTime: UInt64

    init?(pid: Int32) {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // The command name may hold spaces and parentheses; fields after its closing ")" are plain.
        let fields = text[text.index(close, offsetBy: 2)...].split(separator: " ")
        guard fields.count > 19, let state = fields[0].first, let startTime = UInt64(fields[19]) else { return nil }
        self.state = state
        self.startTime = startTime
    }
}
