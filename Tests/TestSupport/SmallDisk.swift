package import Foundation

/// A small file system of its own for a test that fills a disk: a tmpfs of a few megabytes mounted
/// on a folder of the test's (owned by the test's user), unmounted lazily by `unmount`, so a process
/// still holding a file cannot keep it. Mounting needs root or password-less sudo — what a fresh CI
/// machine has to install its packages anyway.
package struct SmallDisk {
    package let folder: URL

    /// The command prefix that may mount: nothing as root, `sudo -n` where that works.
    private static let privileged: [String]? = {
        guard FileManager.default.isExecutableFile(atPath: "/bin/mount") else { return nil }
        if getuid() == 0 { return [] }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sudo"),
            (try? Spawn.run("/usr/bin/sudo", ["-n", "true"]).status) == 0
        else { return nil }
        return ["/usr/bin/sudo", "-n"]
    }()

    package static var available: Bool { privileged != nil }

    private static func privileged(_ program: String, _ arguments: [String]) throws -> Int32 {
        let command = (privileged ?? []) + [program] + arguments
        return try Spawn.run(command[0], Array(command.dropFirst())).status
    }

    package init(at folder: URL, megabytes: Int) throws {
        self.folder = folder
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let options = "size=\(megabytes)m,mode=0755,uid=\(getuid()),gid=\(getgid())"
        guard try Self.privileged("/bin/mount", ["-t", "tmpfs", "-o", options, "tmpfs", folder.path]) == 0 else {
            throw TestServerError("cannot mount a tmpfs on \(folder.path)")
        }
    }

    package func unmount() {
        _ = try? Self.privileged("/bin/umount", ["-l", folder.path])
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
