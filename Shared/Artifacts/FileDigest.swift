import Crypto
import Glibc
import StellwerkAPI

/// The SHA-256 of a file, read in pieces so a large artifact never sits in memory whole.
package enum FileDigest {
    package static func sha256(ofFile path: String) throws -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileDigestError(path: path, errno: errno) }
        defer { close(descriptor) }
        return try sha256(of: descriptor, path: path)
    }

    /// The SHA-256 of everything in the open file `descriptor`, read from its start with `pread`
    /// (the descriptor's own position is left alone); `path` names it in errors.
    static func sha256(of descriptor: Int32, path: String) throws(FileDigestError) -> String {
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(offset)) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileDigestError(path: path, errno: errno)
            }
            if count == 0 { break }
            offset += count
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        }
        return hasher.finalize().lowercaseHex
    }
}

package struct FileDigestError: Error, CustomStringConvertible {
    package var path: String
    package var errno: Int32
    package var description: String { "cannot read \(path): \(String(cString: strerror(errno)))" }
}
