import Database
package import Foundation

/// An artifact as a shared store keeps it: its size and how many chunks hold its bytes.
package struct StoredArtifact: Sendable, Hashable {
    package var sha256: String
    package var size: Int
    package var chunks: Int
}

extension StateStore {
    /// Whether several servers may share the store (PostgreSQL): then artifacts are kept in it, since
    /// each server must hand out what any one took in, and agents are told of every server. A
    /// single-file store stays single-server; its artifacts stay in the server's folder only.
    package var isShared: Bool {
        if case .postgres = location { return true }
        return false
    }

    /// The bytes of one chunk, base64 (both databases keep text alike). Chunks have fixed offsets,
    /// so two servers storing the same artifact at once write the same rows.
    package static let artifactChunkSize = 1 << 20

    /// Keeps chunk `seq` of `sha256`; a chunk there already (the same bytes, by its digest) stays.
    package func storeArtifactChunk(_ sha256: String, seq: Int, bytes: Data) async throws {
        _ = try await transaction { connection in
            try connection.run(
                "INSERT INTO artifact_chunks (sha256, seq, bytes) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                .text(sha256), .integer(Int64(seq)), .text(bytes.base64EncodedString()))
        }
    }

    /// Marks `sha256` complete once all its chunks are stored; from then on every server hands it out.
    package func completeArtifact(
        _ sha256: String, size: Int, chunks: Int, by server: String, at now: Date = Date()
    ) async throws {
        _ = try await transaction { connection in
            let stored =
                try connection.query(
                    "SELECT COUNT(*) FROM artifact_chunks WHERE sha256 = $1", .text(sha256)
                ).first?.integer(0) ?? 0
            guard stored == chunks else {
                throw StoreError(.query, "artifact \(sha256.prefix(12)) has \(stored) of its \(chunks) chunks stored")
            }
            try connection.run(
                """
                INSERT INTO artifacts (sha256, size, chunks, stored_by, stored_at) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (sha256) DO NOTHING
                """, .text(sha256), .integer(Int64(size)), .integer(Int64(chunks)), .text(server),
                .integer(Int64(Self.milliseconds(now))))
        }
    }

    /// The complete artifact `sha256`, or nil when the store does not hold it (yet).
    package func storedArtifact(_ sha256: String) async throws -> StoredArtifact? {
        try await read { connection in
            try connection.query("SELECT size, chunks FROM artifacts WHERE sha256 = $1", .text(sha256)).first.map {
                StoredArtifact(sha256: sha256, size: $0.integer(0), chunks: $0.integer(1))
            }
        }
    }

    /// The bytes of chunk `seq` of `sha256`; nil when it is not stored.
    package func artifactChunk(_ sha256: String, seq: Int) async throws -> Data? {
        let text = try await read { connection in
            try connection.query(
                "SELECT bytes FROM artifact_chunks WHERE sha256 = $1 AND seq = $2", .text(sha256), .integer(Int64(seq))
            ).first?.text(0)
        }
        guard let text else { return nil }
        guard let bytes = Data(base64Encoded: text) else {
            throw StoreError(.query, "chunk \(seq) of artifact \(sha256.prefix(12)) in the store is not base64")
        }
        return bytes
    }
}
