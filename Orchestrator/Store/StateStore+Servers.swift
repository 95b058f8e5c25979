import Database
package import Foundation

/// A server of the store, as it last said it was alive.
package struct ServerRecord: Sendable, Hashable {
    package var id: String
    /// The address agents reach it by.
    package var url: String
    package var seenAt: Date
}

extension StateStore {
    /// Records that server `id` is alive and reached at `url`.
    package func announceServer(_ id: String, url: String, at now: Date = Date()) async throws {
        _ = try await transaction { connection in
            try connection.run(
                """
                INSERT INTO servers (id, url, seen_at) VALUES ($1, $2, $3)
                ON CONFLICT (id) DO UPDATE SET url = excluded.url, seen_at = excluded.seen_at
                """, .text(id), .text(url), .integer(Int64(Self.milliseconds(now))))
        }
    }

    /// Takes a server out of the list agents are given (it stops for good, or for now).
    package func withdrawServer(_ id: String) async throws {
        _ = try await transaction { connection in try connection.run("DELETE FROM servers WHERE id = $1", .text(id)) }
    }

    /// The servers seen since `since`, by ID.
    package func servers(seenSince since: Date) async throws -> [ServerRecord] {
        try await read { connection in
            try connection.query(
                "SELECT id, url, seen_at FROM servers WHERE seen_at >= $1 ORDER BY id",
                .integer(Int64(Self.milliseconds(since)))
            ).map { ServerRecord(id: $0.text(0), url: $0.text(1), seenAt: Self.date($0.integer(2))) }
        }
    }
}
