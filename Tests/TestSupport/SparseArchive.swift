import Artifacts
import Foundation

/// A tar archive with one file of `size` zero bytes, written as a sparse file: gigabytes in the
/// archive's length, nothing on disk, so a test can hand an agent an artifact over its limits.
package enum SparseArchive {
    package static func write(to path: String, entry: String, size: Int) throws {
        // The header claims the size; the zeros after it are the file's length, not written data.
        var header = TarWriter()
        header.add(entry, size: size)
        try Data(header.bytes).write(to: URL(fileURLWithPath: path))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        // The contents rounded up to whole blocks, then the two zero blocks that end an archive.
        try handle.truncate(atOffset: UInt64(512 + (size + 511) / 512 * 512 + 1024))
    }
}
