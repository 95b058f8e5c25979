import Crypto
import Foundation
import StellwerkAPI
import Store

/// Where a server finds an artifact's bytes: its own folder, and behind it, when the store is shared
/// by several servers, the store. An artifact taken in by one server is kept in both; another server
/// asked for it copies it from the store into its folder once, checked against its digest, and hands
/// it out from there (Range requests included).
struct ArtifactShelf: Sendable {
    let store: StateStore
    let files: ServerFiles

    /// The path of artifact `sha` (64 lowercase hex digits, checked by the caller) in the folder.
    func path(_ sha: String) -> String { files.artifactFolder.appendingPathComponent(sha).path }

    /// Whether this server can hand out `sha`, from its folder or the store.
    func has(_ sha: String) async throws -> Bool {
        if FileManager.default.fileExists(atPath: path(sha)) { return true }
        return store.isShared ? try await store.storedArtifact(sha) != nil : false
    }

    /// The file of `sha`, copied from the store first when only the store holds it; nil when neither does.
    func file(_ sha: String) async throws -> String? {
        let path = path(sha)
        if FileManager.default.fileExists(atPath: path) { return path }
        guard store.isShared, let stored = try await store.storedArtifact(sha) else { return nil }
        var seq = 0
        let (actual, _) = try await keep(sha) { () async throws -> [UInt8]? in
            guard seq < stored.chunks else { return nil }
            guard let bytes = try await store.artifactChunk(sha, seq: seq) else {
                throw APIError(.internal, "the store lacks chunk \(seq) of artifact \(sha.prefix(12))")
            }
            seq += 1
            return Array(bytes)
        }
        guard actual == sha else {
            throw APIError(
                .internal, "artifact \(sha.prefix(12)) in the store is damaged (its bytes have SHA-256 \(actual))")
        }
        return path
    }

    /// The largest artifact accepted.
    static let artifactLimit = 2 << 30

    /// Writes the chunks `next` hands out (until nil) into the folder as `sha` when their SHA-256 is
    /// `sha`, through a file of its own, so no half-written or wrong artifact is ever in place; answers
    /// their digest and size either way.
    func keep(_ sha: String, next: () async throws -> [UInt8]?) async throws -> (sha256: String, size: Int) {
        let temporary = files.artifactFolder.appendingPathComponent(".incoming-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw APIError(.internal, "cannot write to the artifact folder")
        }
        defer { try? FileManager.default.removeItem(at: temporary) }
        let handle = try FileHandle(forWritingTo: temporary)
        var hasher = SHA256()
        var size = 0
        do {
            while let bytes = try await next() {
                size += bytes.count
                guard size <= Self.artifactLimit else {
                    throw APIError(.tooLarge, "artifacts are limited to \(Self.artifactLimit >> 30) GiB")
                }
                hasher.update(data: bytes)
                try handle.write(contentsOf: bytes)
            }
            try handle.close()
        } catch {
            try? handle.close()
            throw error
        }
        let actual = hasher.finalize().lowercaseHex
        guard actual == sha else { return (actual, size) }
        // Two requests keeping it at once: whichever comes second finds the first one's in place.
        do {
            try FileManager.default.moveItem(atPath: temporary.path, toPath: path(sha))
        } catch  where FileManager.default.fileExists(atPath: path(sha)) {}
        return (actual, size)
    }

    /// Keeps the artifact file `sha` in a shared store too (nothing for a single-server store, or
    /// when the store has it already), so every server of the store can hand it out.
    func share(_ sha: String) async throws {
        guard store.isShared, try await store.storedArtifact(sha) == nil else { return }
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path(sha)))
        defer { try? handle.close() }
        var seq = 0
        var size = 0
        while let bytes = try handle.read(upToCount: StateStore.artifactChunkSize), !bytes.isEmpty {
            try await store.storeArtifactChunk(sha, seq: seq, bytes: bytes)
            seq += 1
            size += bytes.count
        }
        try await store.completeArtifact(sha, size: size, chunks: seq, by: files.serverID)
    }
}
