/// Writes tar archives (ustar) in memory: release bundles for offline transfer, and in tests also
/// archives no honest tool would write, for the reader's refusals.
package struct TarWriter: Sendable {
    package private(set) var bytes: [UInt8] = []

    package init() {}

    /// Appends one entry with a ustar header. `type` is the tar type flag (`0` file, `5` folder,
    /// `2` symlink, `1` hard link, `3` character device, `6` FIFO, `x` pax header).
    package mutating func add(
        _ name: String, type: Character = "0", contents: [UInt8] = [], mode: Int = 0o644, link: String = "",
        size: Int? = nil
    ) {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, length: Int) {
            for (index, byte) in text.utf8.prefix(length).enumerated() { header[offset + index] = byte }
        }
        func octal(_ value: Int, at offset: Int, length: Int) {
            let digits = String(value, radix: 8)
            put(
                String(repeating: "0", count: max(0, length - 1 - digits.count)) + digits, at: offset,
                length: length - 1)
        }
        put(name, at: 0, length: 100)
        octal(mode, at: 100, length: 8)
        octal(0, at: 108, length: 8)
        octal(0, at: 116, length: 8)
        octal(size ?? contents.count, at: 124, length: 12)
        octal(1_795_000_000, at: 136, length: 12)
        header[156] = type.asciiValue ?? 48
        put(link, at: 157, length: 100)
        put("ustar", at: 257, length: 6)
        put("00", at: 263, length: 2)
        for index in 148..<156 { header[index] = 32 }
        let sum = header.reduce(0) { $0 + Int($1) }
        octal(sum, at: 148, length: 7)
        header[155] = 32
        bytes += header
        bytes += contents
        bytes += [UInt8](repeating: 0, count: (512 - contents.count % 512) % 512)
    }

    /// Appends a pax extended header with the given records before the next entry.
    package mutating func addPax(_ records: [String: String]) {
        var text = ""
        for (key, value) in records.sorted(by: { $0.key < $1.key }) {
            let body = " \(key)=\(value)\n"
            var length = body.utf8.count + 1
            while String(length).utf8.count + body.utf8.count != length { length += 1 }
            text += "\(length)\(body)"
        }
        add("PaxHeader", type: "x", contents: Array(text.utf8))
    }

    /// The archive with its end marker (two zero blocks).
    package var archive: [UInt8] { bytes + [UInt8](repeating: 0, count: 1024) }
}
