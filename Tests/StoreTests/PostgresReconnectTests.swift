import Database
import Foundation
import PostgresDatabase
import TestSupport
import Testing

/// A pooled PostgreSQL connection outlives a restart of PostgreSQL (issue #17, scenario 7): libpq
/// learns that its connection died only when it next talks, so the first statement after a restart
/// used to fail even though the server was back. Outside a transaction the statement is sent again
/// on a new connection; inside one the error reaches the caller, since the transaction is lost.
@Suite(.serialized) struct PostgresReconnectTests {
    @Test func aStatementAfterARestart_reconnects_butNotInsideATransaction() async throws {
        let postgres = try await PostgresServer.dedicated()
        let url = try await postgres.createDatabase()
        let connection = try PostgresConnection(url: url, shownURL: "the test database")
        defer { connection.close() }
        try connection.executeScript("CREATE TABLE readings (value INTEGER)")
        try connection.execute("INSERT INTO readings (value) VALUES ($1)", [.integer(1)])
        // The throwaway server does not wait for its disk on commit; an immediate stop would lose this.
        try connection.executeScript("CHECKPOINT")

        try await postgres.stop()
        try await postgres.start()
        // The connection sat idle in its pool meanwhile: the next statement goes through.
        try connection.execute("INSERT INTO readings (value) VALUES ($1)", [.integer(2)])
        #expect(
            try connection.execute("SELECT value FROM readings ORDER BY value", []).map { $0.integer(0) } == [1, 2])
        try connection.executeScript("CHECKPOINT")

        // Inside a transaction the restart is the caller's to see, and nothing of it is kept.
        try connection.executeScript("BEGIN")
        try connection.execute("INSERT INTO readings (value) VALUES ($1)", [.integer(3)])
        try await postgres.stop()
        try await postgres.start()
        #expect(throws: DatabaseError.self) {
            try connection.execute("INSERT INTO readings (value) VALUES ($1)", [.integer(4)])
        }
        try connection.restoreIfBroken()
        #expect(
            try connection.execute("SELECT value FROM readings ORDER BY value", []).map { $0.integer(0) } == [1, 2])
    }
}
