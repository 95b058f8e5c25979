import Foundation

/// A tar archive with one file of `size` zero bytes, written as a sparse file: gigabytes in the
/// archive's length, nothing on disk, so a test can hand an agent an artifact over its limits.
package enum SparseArchive {
    package static func write(to path: String, entry: String, size: Int) throws {
        var header = [UInt8](repeating: 0, count: 512)
        func field(_ offset: Int, _ text: String) {
            for (index, byte) in text.utf8.enumerated() { header[offset + index] = byte }
        }
        field(0, entry)
        field(100, "0000644")
        field(108, "0000000")
        field(116, "0000000")
        field(124, String(size, radix: 8).leftPadded(to: 11))
        field(136, String(1_796_558_400, radix: 8).leftPadded(to: 11))
        field(148, "        ")
        header[156] = UInt8(ascii: "0")
        field(257, "ustar")
        field(263, "00")
        let sum = header.reduce(0) { $0 + Int($1) }
        field(148, String(sum, radix: 8).leftPadded(to: 6))
        header[154] = 0
        header[155] = UInt8(ascii: " ")
        try Data(header).write(to: URL(fileURLWithPath: path))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        // The contents rounded up to whole blocks, then the two zero blocks that end an archive.
        try handle.truncate(atOffset: UInt64(512 + (size + 511) / 512 * 512 + 1024))
    }
}

extension String {
    fileprivate func leftPadded(to count: Int) -> String {
        String(repeating: "0", count: max(0, count - self.count)) + self
    }
}
