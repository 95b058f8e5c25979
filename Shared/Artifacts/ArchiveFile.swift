import Glibc

/// An artifact on disk, opened once: its digest and its archive are read from the same open file,
/// in pieces, so a large artifact never sits in memory whole and cannot be swapped between the
/// check of its digest and its unpacking.
package final class ArchiveFile: @unchecked Sendable {
    package let path: String
    package let size: Int
    let descriptor: Int32

    package init(path: String) throws(ArchiveError) {
        self.path = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ArchiveError(.malformed, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw ArchiveError(.malformed, "\(path) is not a regular file")
        }
        size = Int(status.st_size)
    }

    deinit { close(descriptor) }

    /// The SHA-256 of the whole file, lowercase hex.
    package func sha256() throws(ArchiveError) -> String {
        do {
            return try FileDigest.sha256(of: descriptor, path: path)
        } catch {
            throw ArchiveError(.malformed, error.description)
        }
    }

    /// `count` bytes from `offset`; fewer only at the end of the file.
    func read(at offset: Int, count: Int) throws(ArchiveError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let result = bytes.withUnsafeMutableBytes { buffer in
                pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset + done))
            }
            if result < 0, errno == EINTR { continue }
            guard result >= 0 else {
                throw ArchiveError(.malformed, "cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if result == 0 { break }
            done += result
        }
        return done == count ? bytes : Array(bytes[..<done])
    }
}
