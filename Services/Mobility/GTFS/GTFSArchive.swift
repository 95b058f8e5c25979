import Foundation
import ZIPFoundation

/// A GTFS zip, read in place: no entry is ever written to disk, so no name can lead outside a
/// folder. Every entry's name and declared size are checked before anything is inflated, and what an
/// entry inflates to is counted against what it declared, so neither a lying header (a zip bomb) nor
/// a file far beyond a real feed gets further than its first megabytes.
struct GTFSArchive {
    /// The limits a feed is held to: far above the largest German regional feeds (stop_times.txt of
    /// a whole federal state is a few hundred megabytes).
    struct Limits: Sendable {
        var archiveBytes: Int64 = 1 << 30
        var fileBytes: Int64 = 1 << 30
        var totalBytes: Int64 = 3 << 30
        var entries = 1000
    }

    private let archive: Archive
    let name: String
    /// The GTFS files at the archive's root, by name (`stops.txt`).
    private let files: [String: Entry]

    init(url: URL, name: String, limits: Limits = Limits()) throws(GTFSError) {
        self.name = name
        let size = ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int64) ?? 0
        guard size <= limits.archiveBytes else {
            throw GTFSError(name, "the archive is \(size) bytes, more than the limit of \(limits.archiveBytes)")
        }
        let opened: Archive
        do {
            opened = try Archive(url: url, accessMode: .read)
        } catch {
            throw GTFSError(name, "not a zip archive")
        }
        archive = opened
        var files: [String: Entry] = [:]
        var count = 0
        var total: Int64 = 0
        for entry in opened {
            count += 1
            guard count <= limits.entries else {
                throw GTFSError(name, "more than \(limits.entries) entries in the archive")
            }
            let path = entry.path
            // Names that would leave a folder were it unpacked: refused whole, as an attack.
            let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            guard !path.hasPrefix("/"), !path.contains("\\"), !parts.contains(".."), !path.utf8.contains(0) else {
                throw GTFSError(name, "the entry '\(Self.shown(path))' names a path outside the archive")
            }
            guard entry.type == .file else {
                if entry.type == .symlink {
                    throw GTFSError(name, "the entry '\(Self.shown(path))' is a symbolic link")
                }
                continue
            }
            let declared = Int64(clamping: entry.uncompressedSize)
            guard declared <= limits.fileBytes else {
                throw GTFSError(
                    name,
                    "'\(Self.shown(path))' unpacks to \(declared) bytes, more than the limit of \(limits.fileBytes)")
            }
            total += declared
            guard total <= limits.totalBytes else {
                throw GTFSError(name, "the files unpack to more than the limit of \(limits.totalBytes) bytes in all")
            }
            // GTFS files lie at the root; anything in a folder is not one of them.
            if parts.count == 1 { files[path] = entry }
        }
        self.files = files
    }

    func contains(_ file: String) -> Bool { files[file] != nil }

    /// Reads `file` record by record: the header first, then each row with its line. Problems carry
    /// the file's name and line.
    func read(_ file: String, record: (_ fields: [String], _ line: Int) throws -> Void) throws {
        guard let entry = files[file] else { throw GTFSError(file, "missing") }
        let declared = Int64(clamping: entry.uncompressedSize)
        var parser = CSVParser()
        var inflated: Int64 = 0
        do {
            _ = try archive.extract(entry, skipCRC32: false) { chunk in
                inflated += Int64(chunk.count)
                guard inflated <= declared else {
                    throw GTFSError(
                        file, "unpacks to more than the \(declared) bytes its header declares (a zip bomb?)")
                }
                try chunk.withUnsafeBytes { try parser.feed($0, record: record) }
            }
            try parser.finish(record: record)
        } catch let problem as CSVParser.Problem {
            throw GTFSError(file, line: problem.line, problem.message)
        } catch let error as GTFSError {
            throw error
        } catch let error as Archive.ArchiveError {
            throw GTFSError(
                file, error == .invalidCRC32 ? "damaged (its checksum does not match)" : "unreadable (\(error))")
        }
    }

    /// A name as it may be shown: printable, and not longer than a line.
    private static func shown(_ path: String) -> String {
        String(path.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : Character($0) }.prefix(120))
    }
}
