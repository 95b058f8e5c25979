package import Foundation
package import Model

/// The workspace folder on disk, read without following links out of sight: a dangling link or a
/// folder where a file belongs is reported, not crashed on, and large files are refused by their size
/// before a byte is read.
package struct DiskSourceTree: SourceTree {
    /// The folder that holds `Blueprints/` and `Environments/`.
    package var root: URL

    package init(root: URL) {
        self.root = root
    }

    package func entries(in folder: String) throws(SourceTreeError) -> [SourceEntry] {
        let url = root.appendingPathComponent(folder)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else { return [] }
        guard isFolder.boolValue else {
            throw SourceTreeError(.unreadable("is a file, expected a folder"), path: folder)
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: url.path)
        } catch {
            throw SourceTreeError(.unreadable(error.localizedDescription), path: folder)
        }
        return names.filter { !$0.hasPrefix(".") }.sorted().map { name in
            SourceEntry(name: name, kind: Self.kind(of: url.appendingPathComponent(name).path))
        }
    }

    package func contents(of path: String, limit: Int) throws(SourceTreeError) -> [UInt8] {
        let fullPath = root.appendingPathComponent(path).path
        switch Self.kind(of: fullPath) {
        case .file: break
        case .folder: throw SourceTreeError(.isFolder, path: path)
        case .danglingLink: throw SourceTreeError(.danglingLink, path: path)
        case .other:
            guard FileManager.default.fileExists(atPath: fullPath) else { throw SourceTreeError(.notFound, path: path) }
            throw SourceTreeError(.unreadable("not a regular file"), path: path)
        }
        guard let handle = FileHandle(forReadingAtPath: fullPath) else {
            throw SourceTreeError(.unreadable("permission denied or vanished"), path: path)
        }
        defer { try? handle.close() }
        do {
            let size = Int(try handle.seekToEnd())
            guard size <= limit else { throw SourceTreeError(.tooLarge(size: size, limit: limit), path: path) }
            try handle.seek(toOffset: 0)
            // Read one byte past the limit, in case the file grew since it was measured.
            let data = try handle.read(upToCount: limit + 1) ?? Data()
            guard data.count <= limit else {
                throw SourceTreeError(.tooLarge(size: data.count, limit: limit), path: path)
            }
            return [UInt8](data)
        } catch let error as SourceTreeError {
            throw error
        } catch {
            throw SourceTreeError(.unreadable(error.localizedDescription), path: path)
        }
    }

    private static func kind(of path: String) -> SourceEntry.Kind {
        var info = stat()
        guard stat(path, &info) == 0 else {
            var linkInfo = stat()
            return lstat(path, &linkInfo) == 0 ? .danglingLink : .other
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .folder
        default: return .other
        }
    }

    /// The nearest folder at or above `start` that holds `Blueprints/` and `Environments/`.
    package static func findRoot(from start: URL) -> URL? {
        var candidate = start.standardizedFileURL
        while true {
            let blueprints = candidate.appendingPathComponent(WorkspaceLoader.blueprintsFolder).path
            let environments = candidate.appendingPathComponent(WorkspaceLoader.environmentsFolder).path
            if FileManager.default.fileExists(atPath: blueprints), FileManager.default.fileExists(atPath: environments)
            {
                return candidate
            }
            let parent = candidate.deletingLastPathComponent()
            if parent.path == candidate.path { return nil }
            candidate = parent
        }
    }
}
