package import FoundationEssentials
import Glibc

/// Disk space the agent keeps for itself: a file of 8 MiB in its data folder. When the disk fills
/// up (a service's data, a download, logs), the agent gives this space back the moment it cannot
/// write its journal or its records, so it can always record what it did and what runs, and restart
/// what was running. It is made again once the disk has room.
package enum SpaceReserve {
    static let size = 8 << 20
    static let fileName = ".stellwerk-reserve"

    /// Makes the reserve when it is missing and the disk has room for it twice over; never fails.
    package static func keep(in folder: URL) {
        let path = folder.appendingPathComponent(fileName).path
        guard isMissing(in: folder) else { return }
        guard let free = available(at: folder.path), free >= 2 * Int64(size) else { return }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        // Allocated for real: a sparse file would give nothing back.
        if posix_fallocate(descriptor, 0, off_t(size)) != 0 { unlink(path) }
    }

    /// Whether the reserve is not there (given back, or never made for want of room).
    static func isMissing(in folder: URL) -> Bool {
        var status = stat()
        return stat(folder.appendingPathComponent(fileName).path, &status) != 0 || Int(status.st_size) < size
    }

    /// Gives the reserve back to the file system; whether there was one to give.
    static func release(in folder: URL) -> Bool {
        unlink(folder.appendingPathComponent(fileName).path) == 0
    }

    /// Bytes this user may still write on the file system that holds `path`.
    package static func available(at path: String) -> Int64? {
        var status = statvfs()
        guard statvfs(path, &status) == 0 else { return nil }
        return Int64(status.f_bavail) * Int64(status.f_frsize)
    }

    /// Megabytes, for messages.
    static func megabytes(_ bytes: Int64) -> String {
        let tenths = (bytes * 10 + 524_288) / 1_048_576
        return "\(tenths / 10).\(tenths % 10) MiB"
    }
}
