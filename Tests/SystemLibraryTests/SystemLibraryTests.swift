import CLibPQ
import CSQLite
import Testing

/// The C libraries link and answer: a broken -dev package or pkg-config entry fails here, early,
/// rather than in the store code that needs them.
@Suite struct SystemLibraryTests {
    @Test func sqlite_whenLinked_reportsVersion3WithWAL() {
        #expect(sqlite3_libversion_number() >= 3_035_000)
        #expect(String(cString: sqlite3_libversion()).hasPrefix("3."))
        #expect(sqlite3_threadsafe() != 0)
    }

    @Test func sqlite_inMemory_runsAStatement() throws {
        var database: OpaquePointer?
        #expect(sqlite3_open(":memory:", &database) == SQLITE_OK)
        defer { sqlite3_close(database) }
        var statement: OpaquePointer?
        #expect(sqlite3_prepare_v2(database, "SELECT 6 * 7", -1, &statement, nil) == SQLITE_OK)
        defer { sqlite3_finalize(statement) }
        #expect(sqlite3_step(statement) == SQLITE_ROW)
        #expect(sqlite3_column_int(statement, 0) == 42)
    }

    @Test func libpq_whenLinked_reportsVersion() {
        // PQlibVersion gives major * 10000 + minor; Debian 12 ships 15.x.
        #expect(PQlibVersion() >= 120_000)
        #expect(PQisthreadsafe() == 1)
    }
}
