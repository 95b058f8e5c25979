import Crypto
import Glibc
import StellwerkAPI

/// The SHA-256 of a file, read in pieces so a large artifact never sits in memory whole.
package enum FileDigest {
    package static func sha256(ofFile path: String) throws -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileDigestError(path: path, errno: errno) }
        defer { close(descriptor) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileDigestError(path: path, errno: errno)
            }
            if count == 0 { break }
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
