package import FoundationEssentials
import Glibc

extension TarArchive {
    /// Writes every entry into the new folder `destination`, which must not exist yet. Entries go into
    /// a temporary sibling first, renamed into place at the end, so `destination` holds the whole
    /// archive or nothing. Set-id bits are dropped; files are created without following links.
    package func extract(into destination: URL) throws(ArchiveError) {
        let manager = FileManager.default
        guard !manager.fileExists(atPath: destination.path) else {
            throw ArchiveError(.writing, "\(destination.path) exists already")
        }
        let partial = destination.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).partial-\(UUID().uuidString.prefix(8))")
        do {
            try manager.createDirectory(at: partial, withIntermediateDirectories: false)
            for entry in entries { try write(entry, under: partial) }
            guard rename(partial.path, destination.path) == 0 else {
                throw ArchiveError(
                    .writing, "cannot move the unpacked files into \(destination.path): \(Self.errnoText())")
            }
        } catch {
            try? manager.removeItem(at: partial)
            throw (error as? ArchiveError) ?? ArchiveError(.writing, "unpacking into \(destination.path): \(error)")
        }
    }

    private func write(_ entry: Entry, under root: URL) throws {
        let target = root.appendingPathComponent(entry.path)
        let folder = target.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        switch entry.kind {
        case .folder:
            if mkdir(target.path, mode_t(entry.mode | 0o700)) != 0, errno != EEXIST {
                throw ArchiveError(.writing, "cannot create the folder \(entry.path): \(Self.errnoText())")
            }
        case .symbolicLink(let linkTarget):
            guard symlink(linkTarget, target.path) == 0 else {
                throw ArchiveError(.writing, "cannot create the link \(entry.path): \(Self.errnoText())")
            }
        case .file(let offset, let size):
            let descriptor = open(target.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(0o600))
            guard descriptor >= 0 else {
                throw ArchiveError(.writing, "cannot create \(entry.path): \(Self.errnoText())")
            }
            defer { close(descriptor) }
            // A megabyte at a time: the archive may be a file of gigabytes.
            var copied = 0
            while copied < size {
                let piece = try source.slice(offset + copied, min(1 << 20, size - copied))
                guard !piece.isEmpty else { throw ArchiveError(.malformed, "the archive ends inside \(entry.path)") }
                try Self.write(piece, to: descriptor, entry: entry.path)
                copied += piece.count
            }
            // No set-user-ID, set-group-ID or sticky bits from an archive.
            guard fchmod(descriptor, mode_t(entry.mode & 0o777)) == 0 else {
                throw ArchiveError(.writing, "cannot set the mode of \(entry.path): \(Self.errnoText())")
            }
        }
    }

    private static func write(_ bytes: ArraySlice<UInt8>, to descriptor: Int32, entry: String) throws(ArchiveError) {
        let complete = bytes.withUnsafeBytes { buffer -> Bool in
            var written = 0
            while written < buffer.count {
                let result = Glibc.write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if result < 0, errno == EINTR { continue }
                guard result > 0 else { return false }
                written += result
            }
            return true
        }
        guard complete else { throw ArchiveError(.writing, "cannot write \(entry): \(Self.errnoText())") }
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}
