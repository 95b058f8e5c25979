/// A tar archive (POSIX ustar, with pax and GNU long names) read from memory or from a file, and
/// checked entry by entry before anything is written. From a file only the headers are read; a
/// file's contents are copied in pieces when it is unpacked, so an artifact of gigabytes needs
/// megabytes of memory.
///
/// Only regular files, folders and symbolic links that stay inside the archive are accepted; absolute
/// paths, `..`, links that leave the folder, paths that pass through a link, hard links, devices and
/// FIFOs are refused, as are entries and archives over the size limits.
package struct TarArchive: Sendable {
    /// One accepted entry.
    package struct Entry: Sendable, Hashable {
        package enum Kind: Sendable, Hashable {
            case file(offset: Int, size: Int)
            case folder
            case symbolicLink(target: String)
        }

        /// The normalised relative path: components joined by `/`, no `.`, no `..`, no trailing slash.
        package var path: String
        package var kind: Kind
        /// Permission bits (0o7777 masked); set-id bits are dropped on extraction.
        package var mode: Int
    }

    /// Limits that bound what an archive may make the agent write.
    package struct Limits: Sendable {
        /// Largest single file, in bytes. Default 1 GiB.
        package var maxEntrySize: Int
        /// Largest total of all files, in bytes. Default 4 GiB.
        package var maxTotalSize: Int
        /// Most entries. Default 100,000.
        package var maxEntries: Int

        /// - Parameters:
        ///   - maxEntrySize: Largest single file (default 1 GiB).
        ///   - maxTotalSize: Largest total of all files (default 4 GiB).
        ///   - maxEntries: Most entries (default 100,000).
        package init(maxEntrySize: Int = 1 << 30, maxTotalSize: Int = 4 << 30, maxEntries: Int = 100_000) {
            self.maxEntrySize = maxEntrySize
            self.maxTotalSize = maxTotalSize
            self.maxEntries = maxEntries
        }
    }

    /// Where the archive's bytes are.
    enum Source: Sendable {
        case memory([UInt8])
        case file(ArchiveFile)

        var count: Int {
            switch self {
            case .memory(let bytes): bytes.count
            case .file(let file): file.size
            }
        }

        /// `count` bytes from `offset`, which the caller has checked lie inside the archive.
        func slice(_ offset: Int, _ count: Int) throws(ArchiveError) -> ArraySlice<UInt8> {
            switch self {
            case .memory(let bytes): return bytes[offset..<(offset + count)]
            case .file(let file): return ArraySlice(try file.read(at: offset, count: count))
            }
        }
    }

    let source: Source
    package let entries: [Entry]

    /// Reads and checks every header of `bytes`; throws at the first entry that is refused.
    package init(bytes: [UInt8], limits: Limits = Limits()) throws(ArchiveError) {
        source = .memory(bytes)
        entries = try Self.read(source, limits: limits)
    }

    /// Reads and checks every header of the archive in `file`, leaving the contents on disk.
    package init(file: ArchiveFile, limits: Limits = Limits()) throws(ArchiveError) {
        source = .file(file)
        entries = try Self.read(source, limits: limits)
    }

    /// The bytes the files take once unpacked.
    package var unpackedSize: Int {
        entries.reduce(0) { total, entry in
            guard case .file(_, let size) = entry.kind else { return total }
            return total + size
        }
    }

    /// The contents of a file entry, read into memory: for the small ones (a manifest).
    package func contents(of entry: Entry) throws(ArchiveError) -> ArraySlice<UInt8> {
        guard case .file(let offset, let size) = entry.kind else { return [] }
        return try source.slice(offset, size)
    }

    // MARK: Reading

    private static let blockSize = 512
    /// The largest pax header or GNU long name read: they hold names and numbers, not contents.
    static let maxMetadataSize = 1 << 20

    private static func read(_ bytes: Source, limits: Limits) throws(ArchiveError) -> [Entry] {
        var entries: [Entry] = []
        var seen: [String: Entry.Kind] = [:]
        var total = 0
        var offset = 0
        var paxPath: String?
        var paxLinkPath: String?
        var paxSize: Int?
        var longName: String?
        var longLink: String?
        // A compressed archive is named as such, not as a damaged header: the agent unpacks plain tar.
        if bytes.count >= 4 {
            let magic = Array(try bytes.slice(0, 4))
            let compression: String? =
                magic.starts(with: [0x1f, 0x8b])
                ? "gzip"
                : magic == [0x28, 0xb5, 0x2f, 0xfd]
                    ? "zstd"
                    : magic.starts(with: [0x42, 0x5a, 0x68]) ? "bzip2" : magic == [0xfd, 0x37, 0x7a, 0x58] ? "xz" : nil
            if let compression {
                throw ArchiveError(
                    .malformed,
                    "it is compressed (\(compression)); artifacts are plain tar archives: decompress it, or make it with `tar -cf`"
                )
            }
        }
        while offset + blockSize <= bytes.count {
            let headerOffset = offset
            let header = try bytes.slice(offset, blockSize)
            if header.allSatisfy({ $0 == 0 }) { return entries }  // end of archive
            guard checksumMatches(header) else {
                throw ArchiveError(.malformed, "the header at byte \(offset) is damaged (its checksum does not match)")
            }
            let type = header[header.startIndex + 156]
            var size = try number(header, 124, 12, at: offset)
            if let override = paxSize { size = override }
            let dataStart = offset + blockSize
            guard size >= 0, dataStart + size <= bytes.count else {
                throw ArchiveError(
                    .malformed, "the entry at byte \(offset) claims \(size) bytes, more than the archive holds")
            }
            offset = dataStart + (size + blockSize - 1) / blockSize * blockSize
            // Names and pax records are read; a file's contents stay where they are.
            func metadata() throws(ArchiveError) -> ArraySlice<UInt8> {
                guard size <= maxMetadataSize else {
                    throw ArchiveError(
                        .malformed, "the header at byte \(headerOffset) carries \(size) bytes of names; at most 1 MiB")
                }
                return try bytes.slice(dataStart, size)
            }

            switch type {
            case UInt8(ascii: "x"):
                let records = try paxRecords(try metadata(), at: dataStart)
                paxPath = records["path"] ?? paxPath
                paxLinkPath = records["linkpath"] ?? paxLinkPath
                paxSize =
                    try records["size"].map { text throws(ArchiveError) in
                        guard let value = Int(text) else {
                            throw ArchiveError(.malformed, "a pax size is not a number: \(text)")
                        }
                        return value
                    } ?? paxSize
                continue
            case UInt8(ascii: "g"):
                continue  // global pax headers carry nothing an extraction needs
            case UInt8(ascii: "L"):
                longName = string(try metadata())
                continue
            case UInt8(ascii: "K"):
                longLink = string(try metadata())
                continue
            default:
                break
            }

            var rawPath =
                paxPath ?? longName
                ?? {
                    let name = string(header, 0, 100)
                    let prefix = string(header, 345, 155)
                    return prefix.isEmpty ? name : prefix + "/" + name
                }()
            let rawLink = paxLinkPath ?? longLink ?? string(header, 157, 100)
            (paxPath, paxLinkPath, paxSize, longName, longLink) = (nil, nil, nil, nil, nil)
            if rawPath.hasSuffix("/") { rawPath.removeLast() }
            // `tar -C folder .` writes the folder itself as "./": nothing to create.
            if type == UInt8(ascii: "5"), rawPath.split(separator: "/").allSatisfy({ $0 == "." }) { continue }
            let path = try normalised(rawPath)
            let mode = (try number(header, 100, 8, at: headerOffset)) & 0o777

            // A path that goes through a link could write anywhere the link points.
            var parent = ""
            for component in path.split(separator: "/").dropLast() {
                parent += parent.isEmpty ? String(component) : "/\(component)"
                if case .symbolicLink = seen[parent] {
                    throw ArchiveError(
                        .escapes, "'\(path)' lies under the link '\(parent)'; an entry may not pass through a link")
                }
            }

            let kind: Entry.Kind
            switch type {
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                guard size <= limits.maxEntrySize else {
                    throw ArchiveError(
                        .tooLarge, "'\(path)' is \(size) bytes, more than the limit of \(limits.maxEntrySize)")
                }
                total += size
                guard total <= limits.maxTotalSize else {
                    throw ArchiveError(.tooLarge, "the archive unpacks to more than \(limits.maxTotalSize) bytes")
                }
                kind = .file(offset: dataStart, size: size)
            case UInt8(ascii: "5"):
                kind = .folder
            case UInt8(ascii: "2"):
                kind = .symbolicLink(target: try linkTarget(rawLink, from: path))
            case UInt8(ascii: "1"):
                throw ArchiveError(
                    .unsupported, "'\(path)' is a hard link; artifacts may hold files, folders and links only")
            case UInt8(ascii: "3"), UInt8(ascii: "4"):
                throw ArchiveError(
                    .unsupported, "'\(path)' is a device file; artifacts may hold files, folders and links only")
            case UInt8(ascii: "6"):
                throw ArchiveError(
                    .unsupported, "'\(path)' is a FIFO; artifacts may hold files, folders and links only")
            default:
                throw ArchiveError(
                    .unsupported, "'\(path)' has the unknown entry type '\(Character(Unicode.Scalar(type)))'")
            }
            if let previous = seen[path], !(previous == .folder && kind == .folder) {
                throw ArchiveError(.malformed, "'\(path)' appears twice in the archive")
            }
            seen[path] = kind
            entries.append(Entry(path: path, kind: kind, mode: mode))
            guard entries.count <= limits.maxEntries else {
                throw ArchiveError(.tooLarge, "the archive has more than \(limits.maxEntries) entries")
            }
        }
        throw ArchiveError(.malformed, "the archive ends without its end marker (truncated?)")
    }

    /// A relative path without `.` and `..`, or an error naming what is wrong.
    private static func normalised(_ path: String) throws(ArchiveError) -> String {
        guard !path.isEmpty else { throw ArchiveError(.malformed, "an entry has an empty name") }
        guard !path.hasPrefix("/") else { throw ArchiveError(.escapes, "'\(path)' is an absolute path") }
        guard !path.utf8.contains(0), !path.contains("\\") else {
            throw ArchiveError(.escapes, "'\(path)' holds characters a path may not hold")
        }
        let components = path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        guard !components.contains("..") else { throw ArchiveError(.escapes, "'\(path)' contains '..'") }
        guard !components.isEmpty else { throw ArchiveError(.malformed, "an entry names the archive's root") }
        return components.joined(separator: "/")
    }

    /// The link's target if it stays inside the archive's folder, seen from the link's own folder.
    private static func linkTarget(_ target: String, from path: String) throws(ArchiveError) -> String {
        guard !target.isEmpty else { throw ArchiveError(.malformed, "the link '\(path)' has no target") }
        guard !target.hasPrefix("/") else {
            throw ArchiveError(.escapes, "the link '\(path)' points to the absolute path '\(target)'")
        }
        var resolved = path.split(separator: "/").dropLast().map(String.init)
        for component in target.split(separator: "/", omittingEmptySubsequences: true) where component != "." {
            if component == ".." {
                guard !resolved.isEmpty else {
                    throw ArchiveError(.escapes, "the link '\(path)' points to '\(target)', outside the artifact")
                }
                resolved.removeLast()
            } else {
                resolved.append(String(component))
            }
        }
        return target
    }

    private static func checksumMatches(_ header: ArraySlice<UInt8>) -> Bool {
        let start = header.startIndex
        var sum = 0
        for index in 0..<blockSize {
            sum += (148..<156).contains(index) ? 32 : Int(header[start + index])
        }
        guard let stored = try? number(header, 148, 8, at: 0) else { return false }
        return stored == sum
    }

    /// An octal number field (or GNU base-256 for large sizes).
    private static func number(
        _ header: ArraySlice<UInt8>, _ field: Int, _ length: Int, at offset: Int
    ) throws(ArchiveError) -> Int {
        let bytes = header[(header.startIndex + field)..<(header.startIndex + field + length)]
        if let first = bytes.first, first & 0x80 != 0 {
            var value = Int(first & 0x7f)
            for byte in bytes.dropFirst() {
                guard value < Int.max >> 8 else {
                    throw ArchiveError(.malformed, "a number in the header at byte \(offset) is too large")
                }
                value = value << 8 | Int(byte)
            }
            return value
        }
        var value = 0
        var digits = 0
        for byte in bytes {
            if byte == 0 || byte == 32 {
                if digits > 0 { break } else { continue }
            }
            guard (48...55).contains(byte), value < Int.max >> 3 else {
                throw ArchiveError(.malformed, "the header at byte \(offset) holds a field that is not an octal number")
            }
            value = value << 3 | Int(byte - 48)
            digits += 1
        }
        return value
    }

    private static func string(_ header: ArraySlice<UInt8>, _ field: Int, _ length: Int) -> String {
        string(header[(header.startIndex + field)..<(header.startIndex + field + length)])
    }

    private static func string(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// `LENGTH KEY=VALUE\n` records of a pax extended header.
    private static func paxRecords(_ data: ArraySlice<UInt8>, at offset: Int) throws(ArchiveError) -> [String: String] {
        var records: [String: String] = [:]
        var index = data.startIndex
        while index < data.endIndex {
            guard let space = data[index...].firstIndex(of: 32), let length = Int(string(data[index..<space])),
                length > 0, index + length <= data.endIndex
            else { throw ArchiveError(.malformed, "the pax header at byte \(offset) is damaged") }
            let record = data[(space + 1)..<(index + length - 1)]
            if let equals = record.firstIndex(of: UInt8(ascii: "=")) {
                records[string(record[record.startIndex..<equals])] = String(
                    decoding: record[(equals + 1)...], as: UTF8.self)
            }
            index += length
        }
        return records
    }
}

/// Why an archive was refused.
package struct ArchiveError: Error, Sendable, CustomStringConvertible {
    package enum Code: Sendable, Hashable {
        /// Not a readable tar archive.
        case malformed
        /// An entry would land outside the folder it is unpacked into.
        case escapes
        /// An entry type artifacts may not carry.
        case unsupported
        /// Over a size or count limit.
        case tooLarge
        /// Writing the unpacked files failed.
        case writing
    }

    package var code: Code
    package var message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }
}
