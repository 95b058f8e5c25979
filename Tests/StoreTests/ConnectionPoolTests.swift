import CSQLite
import Database
import Foundation
import TestSupport
import Testing

/// The pool's writing connection (issue #15): SQLite empties a connection's page cache whenever
/// another connection wrote since its last transaction, so single-row writes that took turns over a
/// pool read the same B-tree pages from the file again and again. Through the writer they do not.
@Suite struct ConnectionPoolTests {
    @Test func concurrentWritesThroughTheWriter_findTheirPagesCached() async throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("pool.sqlite").path
        let connections = try (0..<4).map { try SQLiteConnection(path: path, create: $0 == 0) }
        try connections[0].executeScript(
            """
            CREATE TABLE readings (id INTEGER PRIMARY KEY, stream INTEGER NOT NULL, time INTEGER NOT NULL);
            CREATE INDEX readings_by_stream_time ON readings (stream, time);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
            INSERT INTO readings (stream, time) SELECT i % 100, i FROM n;
            """)
        let pool = ConnectionPool(Array(connections.dropFirst()), writer: connections[0])
        defer { pool.close() }

        func write(_ value: Int) async throws {
            _ = try await pool.withWriter { connection in
                try connection.transaction {
                    try connection.execute(
                        "INSERT INTO readings (stream, time) VALUES ($1, $2)",
                        [.integer(Int64(value % 100)), .integer(Int64(100_000 + value))])
                }
            }
        }
        try await write(0)  // the writer's cache holds the pages it needs from here on
        let missesBefore = Self.cacheMisses(connections[0])
        let writes = 400
        try await withThrowingTaskGroup(of: Void.self) { group in
            for sender in 0..<4 {
                group.addTask {
                    for index in stride(from: 1 + sender, through: writes, by: 4) {
                        try await write(index)
                        // Readers meanwhile, on the other connections.
                        _ = try await pool.withConnection { connection in
                            try connection.execute(
                                "SELECT MAX(time) FROM readings WHERE stream = $1", [.integer(Int64(index % 100))])
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let misses = Self.cacheMisses(connections[0]) - missesBefore
        // A write on a connection whose cache was emptied reads the root and leaf pages of both
        // B-trees again: 4 misses or more each.
        #expect(misses < writes / 4, "\(misses) page cache misses for \(writes) writes")
        #expect(
            try await pool.withConnection { try $0.execute("SELECT COUNT(*) FROM readings", []).first?.integer(0) }
                == 20_000 + writes + 1)

        pool.close()
        await #expect(throws: DatabaseError.self) { try await write(writes + 1) }
    }

    static func cacheMisses(_ connection: SQLiteConnection) -> Int {
        var current: Int32 = 0
        var highest: Int32 = 0
        sqlite3_db_status(connection.rawHandle, SQLITE_DBSTATUS_CACHE_MISS, &current, &highest, 0)
        return Int(current)
    }
}
