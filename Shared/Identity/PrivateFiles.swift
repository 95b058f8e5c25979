package import FoundationEssentials
import Glibc

/// Folders and files only their owner may read: an agent's identity, journal, desired state and
/// data backups, or a server's keys. Folders are 0700, files 0600 from their first byte.
package enum PrivateFiles {
    /// Creates `folder` (and its parents) 0700, and tightens it when it exists already (made by an
    /// older version, or by hand).
    package static func folder(_ folder: URL) throws {
        try FileManager.default.createDirectory(
            at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: folder.path)
    }

    /// Replaces `file` with `data` at once (a reader sees the old or the new whole), 0600.
    package static func write(_ data: Data, to file: URL) throws {
        let temporary = file.deletingLastPathComponent().appendingPathComponent(".\(file.lastPathComponent).new")
        try? FileManager.default.removeItem(at: temporary)
        guard
            FileManager.default.createFile(
                atPath: temporary.path, contents: data, attributes: [.posixPermissions: 0o600])
        else { throw IdentityError("cannot write \(file.path)") }
        guard rename(temporary.path, file.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw IdentityError("cannot write \(file.path): \(reason)")
        }
    }

    /// Makes the existing `file` 0600; nothing when it does not exist.
    package static func restrict(_ file: URL) throws {
        guard FileManager.default.fileExists(atPath: file.path) else { return }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
    }
}
