package import Foundation

/// A small file system of its own for a test that fills a disk: a tmpfs of a few megabytes mounted
/// on a folder of the test's, unmounted (lazily, so a process still holding a file cannot keep it)
/// by `unmount`. Mounting needs root, as CI has.
package struct SmallDisk {
    package let folder: URL

    package static var available: Bool { getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/bin/mount") }

    package init(at folder: URL, megabytes: Int) throws {
        self.folder = folder
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let mounted = try Spawn.run(
            "/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m,mode=0755", "tmpfs", folder.path])
        guard mounted.status == 0 else { throw TestServerError("cannot mount a tmpfs on \(folder.path)") }
    }

    package func unmount() {
        _ = try? Spawn.run("/bin/umount", ["-l", folder.path])
    }

    /// Writes zeros into `name` until the disk has no byte left.
    package func fill(_ name: String = "filler") throws {
        let path = folder.appendingPathComponent(name).path
        // Megabytes first, then what is left block by block; dd stops at "No space left on device".
        _ = try Spawn.run("/bin/dd", ["if=/dev/zero", "of=\(path)", "bs=1M"])
        _ = try Spawn.run("/bin/dd", ["if=/dev/zero", "of=\(path)-rest", "bs=512"])
    }

    /// Removes what `fill` wrote.
    package func empty(_ name: String = "filler") {
        let path = folder.appendingPathComponent(name).path
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.removeItem(atPath: path + "-rest")
    }

    /// Bytes still free.
    package var free: Int64 {
        var status = statvfs()
        guard statvfs(folder.path, &status) == 0 else { return -1 }
        return Int64(status.f_bavail) * Int64(status.f_frsize)
    }
}
