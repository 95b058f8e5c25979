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
    }
}
