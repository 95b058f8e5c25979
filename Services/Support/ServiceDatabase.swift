package import Database
import Foundation
import PostgresDatabase

/// What the services' stores share: opening `sqlite:PATH` or a `postgres://` URL as a pool of
/// connections, and applying versioned schema migrations, each recorded in `schema_migrations`.
package enum ServiceDatabase {
    /// One schema version: its statements, run in order in the migration's transaction.
    package struct Migration: Sendable {
        package var version: Int
        package var summary: String
        package var statements: [String]

        package init(_ version: Int, _ summary: String, _ statements: [String]) {
            self.version = version
            self.summary = summary
            self.statements = statements
        }
    }

    /// Opens `location` (`sqlite:PATH`, relative to the working folder, or a `postgres://` /
    /// `postgresql://` URL). With `create`, a missing SQLite file is made (migrate does that); without,
    /// its absence is an error that names `migrateCommand`. `what` names the database in messages.
    package static func open(
        _ location: String, create: Bool, connections: Int, what: String, migrateCommand: String
    ) throws(ServiceStartError) -> ConnectionPool {
        var opened: [any SQLConnection] = []
        if location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") {
            let shown = ConnectionURL.redacted(location)
            for _ in 0..<max(1, connections) {
                do {
                    opened.append(try PostgresConnection(url: location, shownURL: shown))
                } catch {
                    throw ServiceStartError(error.description)
                }
            }
            return ConnectionPool(opened)
        }
        guard location.hasPrefix("sqlite:") else {
            throw ServiceStartError("database '\(location)' is neither sqlite:PATH nor a postgres:// URL")
        }
        let path = String(location.dropFirst("sqlite:".count))
        guard create || FileManager.default.fileExists(atPath: path) else {
            throw ServiceStartError("the \(what) database \(path) does not exist; run `\(migrateCommand)` first")
        }
        do {
            if create {
                try FileManager.default.createDirectory(
                    at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
            }
            // One more connection than asked, kept for writes (see `ConnectionPool.init`).
            for index in 0...max(1, connections) {
                let connection = try SQLiteConnection(path: path, create: create && index == 0)
                try connection.executeScript("PRAGMA foreign_keys = ON")
                opened.append(connection)
            }
        } catch {
            throw ServiceStartError("opening the \(what) database \(path): \(error)")
        }
        let writer = opened.removeFirst()
        return ConnectionPool(opened, writer: writer)
    }

    /// The schema version the database is at (0 before the first migration).
    package static func schemaVersion(_ pool: ConnectionPool) async throws -> Int {
        try await pool.withConnection { connection in
            try connection.executeScript(createTable)
            return try connection.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").first?.integer(0)
                ?? 0
        }
    }

    /// Applies the migrations the database lacks in one transaction and returns their versions; a
    /// database newer than `migrations` is refused. `statement` turns a listed statement into the
    /// connection's dialect.
    package static func migrate(
        _ pool: ConnectionPool, _ migrations: [Migration], what: String,
        statement: @escaping @Sendable (String, any SQLConnection) throws -> Void
    ) async throws -> [Int] {
        let latest = migrations.last?.version ?? 0
        return try await pool.withConnection { connection in
            try connection.executeScript(createTable)
            return try connection.transaction {
                let current =
                    try connection.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").first?.integer(0)
                    ?? 0
                guard current <= latest else {
                    throw ServiceStartError(
                        "the \(what) database has schema version \(current), newer than this datenplattform knows (\(latest)); run the newer release"
                    )
                }
                var applied: [Int] = []
                for migration in migrations where migration.version > current {
                    for text in migration.statements { try statement(text, connection) }
                    try connection.run(
                        "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                        .integer(Int64(migration.version)), .text(ISO8601DateFormatter().string(from: Date())))
                    applied.append(migration.version)
                }
                return applied
            }
        }
    }

    private static let createTable =
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"

    /// Checks a configuration's `database` value: one line naming the file when it is neither form.
    package static func checkLocation(_ database: String, in path: String) throws(ServiceStartError) {
        guard
            database.hasPrefix("sqlite:") || database.hasPrefix("postgres://") || database.hasPrefix("postgresql://")
        else {
            throw ServiceStartError(
                "\(path): database must be sqlite:PATH or a postgres:// URL, not '\(database.split(separator: ":").first ?? "")…'"
            )
        }
    }
}
