import FoundationEssentials
import Glibc

/// Returning memory the agent freed to the system.
enum FreedMemory {
    private typealias Trim = @convention(c) (Int) -> Int32

    /// glibc's `malloc_trim`, looked up at run time: Swift's Glibc module leaves out malloc.h.
    private static let trim: Trim? = {
        guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: Trim.self)
    }()

    /// Gives back the free pages of every malloc arena, so what an install needed for a moment does
    /// not stay resident while the agent idles.
    static func giveBack() {
        _ = trim?(0)
        unmapIdleCode()
    }

    /// The agent's own program, as its mappings name it; it does not change while the agent runs.
    private static let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")

    /// Unmaps the agent's own machine code from its page table. Starting, joining and installing run
    /// code an idle agent never runs again, and the kernel maps code in 64 KiB windows around each page
    /// touched, so most of a 20 MB executable stayed resident. The pages stay in the page cache (shared,
    /// and reclaimable once no process maps them); what runs next is mapped again on first use.
    /// Only executable mappings that hold no page of their own are dropped: the relocated pointers of
    /// the read-only-after-relocation part are private pages, and dropping them would undo relocation.
    static func unmapIdleCode() {
        guard let executable, let smaps = try? String(contentsOfFile: "/proc/self/smaps", encoding: .utf8)
        else { return }
        var candidate: (start: UInt, end: UInt)?
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let range = fields.first, range.contains("-"), fields.count >= 5 {
                candidate = nil
                guard fields.count >= 6, fields[5] == executable, fields[1] == "r-xp" else { continue }
                let bounds = range.split(separator: "-").compactMap { UInt(String($0), radix: 16) }
                if bounds.count == 2, bounds[1] > bounds[0] { candidate = (bounds[0], bounds[1]) }
            } else if let mapping = candidate, fields.first == "Private_Dirty:" {
                candidate = nil
                guard fields.count >= 2, fields[1] == "0",
                    let start = UnsafeMutableRawPointer(bitPattern: mapping.start)
                else { continue }
                _ = madvise(start, Int(mapping.end - mapping.start), MADV_DONTNEED)
            }
        }
    }
}
