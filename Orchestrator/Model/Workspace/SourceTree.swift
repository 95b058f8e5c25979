/// Read access to the folder that holds `Blueprints/` and `Environments/`.
///
/// The model does no I/O itself: the CLI hands it a tree backed by the file system, tests one backed
/// by memory.
package protocol SourceTree: Sendable {
    /// The entries of a folder, relative to the tree's root; `[]` when the folder does not exist.
    func entries(in folder: String) throws(SourceTreeError) -> [SourceEntry]
    /// A file's bytes. Files larger than `limit` bytes are refused without being read.
    func contents(of path: String, limit: Int) throws(SourceTreeError) -> [UInt8]
}

/// One entry of a folder.
package struct SourceEntry: Sendable, Hashable {
    package enum Kind: Sendable, Hashable {
        case file, folder
        /// A symbolic link whose target does not exist.
        case danglingLink
        /// A socket, device or anything else that is neither file nor folder.
        case other
    }

    package var name: String
    package var kind: Kind

    package init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }
}

/// Why a source file could not be read.
package struct SourceTreeError: Error, Sendable, CustomStringConvertible {
    package enum Code: Sendable, Hashable {
        case notFound, isFolder, danglingLink, tooLarge(size: Int, limit: Int), unreadable(String)
    }

    package var code: Code
    package var path: String

    package init(_ code: Code, path: String) {
        self.code = code
        self.path = path
    }

    package var description: String {
        switch code {
        case .notFound: "no such file"
        case .isFolder: "is a folder, not a YAML file"
        case .danglingLink: "is a link to a file that does not exist"
        case .tooLarge(let size, let limit): "the file is \(size) bytes, more than the limit of \(limit)"
        case .unreadable(let reason): "could not be read: \(reason)"
        }
    }
}

/// A source tree held in memory, for tests and for generated environments.
package struct MemorySourceTree: SourceTree {
    package var files: [String: String]

    package init(files: [String: String]) {
        self.files = files
    }

    package func entries(in folder: String) throws(SourceTreeError) -> [SourceEntry] {
        let prefix = folder.isEmpty ? "" : folder + "/"
        var names: [String: SourceEntry.Kind] = [:]
        for path in files.keys where path.hasPrefix(prefix) {
            let rest = path.dropFirst(prefix.count)
            if let slash = rest.firstIndex(of: "/") {
                names[String(rest[..<slash])] = .folder
            } else {
                names[String(rest)] = .file
            }
        }
        return names.map { SourceEntry(name: $0.key, kind: $0.value) }.sorted { $0.name < $1.name }
    }

    package func contents(of path: String, limit: Int) throws(SourceTreeError) -> [UInt8] {
        guard let text = files[path] else { throw SourceTreeError(.notFound, path: path) }
        let bytes = Array(text.utf8)
        guard bytes.count <= limit else {
            throw SourceTreeError(.tooLarge(size: bytes.count, limit: limit), path: path)
        }
        return bytes
    }
}

/// A tree with files laid over another: what the workspace would be with files not written yet, so
/// they are checked before anything is written (`stellwerk onboard`).
package struct OverlaySourceTree: SourceTree {
    package var base: any SourceTree
    package var added: MemorySourceTree

    package init(base: any SourceTree, added: [String: String]) {
        self.base = base
        self.added = MemorySourceTree(files: added)
    }

    package func entries(in folder: String) throws(SourceTreeError) -> [SourceEntry] {
        var byName: [String: SourceEntry] = [:]
        for entry in try base.entries(in: folder) { byName[entry.name] = entry }
        for entry in try added.entries(in: folder) { byName[entry.name] = entry }
        return byName.values.sorted { $0.name < $1.name }
    }

    package func contents(of path: String, limit: Int) throws(SourceTreeError) -> [UInt8] {
        added.files[path] != nil
            ? try added.contents(of: path, limit: limit) : try base.contents(of: path, limit: limit)
    }
}
