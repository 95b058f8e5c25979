import CSQLite
import Dispatch
import Synchronization

/// A connection to a SQLite file through the system libsqlite3: WAL journal, a busy timeout so
/// concurrent writers wait instead of failing, foreign keys on, and prepared statements cached.
package final class SQLiteConnection: SQLConnection {
    package let dialect = SQLDialect.sqlite
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    /// The most prepared statements kept for reuse.
    static let cachedStatementLimit = 256
    package let path: String
    /// Taken for a write transaction by every connection of this process to the same file: a
    /// writer waits here, woken the moment the one before commits, instead of in SQLite's busy
    /// handler, which sleeps 1, 2, 5, 10… ms between tries and so caps concurrent writes.
    let writeGate: DispatchSemaphore

    /// Whether this connection holds the gate (a nested BEGIN must fail as SQLite says, not wait).
    var holdsWriteGate = false

    private static let writeGates = Mutex<[String: DispatchSemaphore]>([:])

    /// Opens (and with `create`, creates) the database file at `path`.
    package init(path: String, create: Bool, busyTimeoutMilliseconds: Int32 = 10_000) throws(DatabaseError) {
        self.path = path
        writeGate = Self.writeGates.withLock { gates in
            if let gate = gates[path] { return gate }
            let gate = DispatchSemaphore(value: 1)
            gates[path] = gate
            return gate
        }
        var flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX
        if create { flags |= SQLITE_OPEN_CREATE }
        var database: OpaquePointer?
        let status = sqlite3_open_v2(path, &database, flags, nil)
        guard status == SQLITE_OK, let database else {
            let reason = database.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(database)
            let hint = status == SQLITE_CANTOPEN ? " (does the folder exist, and may this user write there?)" : ""
            throw DatabaseError(.unavailable, "cannot open the SQLite store \(path): \(reason)\(hint)")
        }
        handle = database
        sqlite3_busy_timeout(database, busyTimeoutMilliseconds)
        sqlite3_extended_result_codes(database, 1)
        do {
            try executeScript("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL")
            let mode = try execute("PRAGMA journal_mode = WAL", []).first?.text(0)
            guard mode == "wal" else {
                throw DatabaseError(.unavailable, "cannot switch \(path) to WAL mode (got \(mode ?? "nothing"))")
            }
            // A file that is not a database fails here, with SQLite's "file is not a database".
            try execute("SELECT count(*) FROM sqlite_master", [])
        } catch let error as DatabaseError {
            close()
            throw error.code == .query
                ? DatabaseError(.unavailable, "cannot use \(path) as a SQLite store: \(error.message)") : error
        } catch {
            close()
            throw DatabaseError(.unavailable, "cannot use \(path) as a SQLite store: \(error)")
        }
    }

    deinit { close() }

    package func close() {
        for statement in statements.values { sqlite3_finalize(statement) }
        statements.removeAll()
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    package var rawHandle: OpaquePointer? { handle }

    private func error(_ context: String) -> DatabaseError {
        let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "the connection is closed"
        return DatabaseError(.query, "\(context): \(message)")
    }

    /// SQLite numbers its parameters `?1`, `?2`…; statements are written with PostgreSQL's `$1`.
    private static func translate(_ sql: String) -> String {
        var result = ""
        result.reserveCapacity(sql.utf8.count)
        var previous: Character = " "
        for character in sql {
            if character == "$", previous != "'" {
                result.append("?")
            } else {
                result.append(character)
            }
            previous = character
        }
        return result
    }

    private func prepared(_ sql: String) throws(DatabaseError) -> OpaquePointer {
        if let statement = statements[sql] {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
            return statement
        }
        // Statements built from requests (a sensor service's filters) differ without end: the cache
        // starts over when it is full rather than growing with every one.
        if statements.count >= Self.cachedStatementLimit {
            for statement in statements.values { sqlite3_finalize(statement) }
            statements.removeAll()
        }
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, Self.translate(sql), -1, &statement, nil) == SQLITE_OK, let statement else {
            throw error("preparing \(sql.prefix(80))")
        }
        statements[sql] = statement
        return statement
    }

    @discardableResult
    package func execute(_ sql: String, _ parameters: [SQLValue]) throws(DatabaseError) -> [SQLRow] {
        let statement = try prepared(sql)
        defer { sqlite3_reset(statement) }
        for (index, value) in parameters.enumerated() {
            let position = Int32(index + 1)
            let status: Int32
            switch value {
            case .null: status = sqlite3_bind_null(statement, position)
            case .integer(let number): status = sqlite3_bind_int64(statement, position, number)
            case .real(let number): status = sqlite3_bind_double(statement, position, number)
            case .text(let text): status = sqlite3_bind_text(statement, position, text, -1, csqlite_transient())
            }
            guard status == SQLITE_OK else { throw error("binding parameter \(position)") }
        }
        var rows: [SQLRow] = []
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { break }
            guard status == SQLITE_ROW else { throw error("running \(sql.prefix(80))") }
            let count = sqlite3_column_count(statement)
            var values: [SQLValue] = []
            values.reserveCapacity(Int(count))
            for column in 0..<count {
                switch sqlite3_column_type(statement, column) {
                case SQLITE_NULL: values.append(.null)
                case SQLITE_INTEGER: values.append(.integer(sqlite3_column_int64(statement, column)))
                case SQLITE_FLOAT: values.append(.real(sqlite3_column_double(statement, column)))
                default:
                    if let text = sqlite3_column_text(statement, column) {
                        values.append(.text(String(cString: text)))
                    } else {
                        values.append(.null)
                    }
                }
            }
            rows.append(SQLRow(values: values))
        }
        return rows
    }

    package func executeScript(_ sql: String) throws(DatabaseError) {
        var message: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(handle, sql, nil, nil, &message) == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(message)
            throw DatabaseError(.query, "running \(sql.prefix(80)): \(text)")
        }
    }

    /// Copies the SQLite database file `source` (any program's, opened read-only and otherwise left as
    /// it is) to `destination` with the online backup, so its writers may go on meanwhile.
    package static func backup(file source: String, to destination: String) throws(DatabaseError) {
        var handle: OpaquePointer?
        guard sqlite3_open_v2(source, &handle, SQLITE_OPEN_READONLY, nil) == SQLITE_OK, let handle else {
            sqlite3_close(handle)
            throw DatabaseError(.unavailable, "cannot open \(source) to back it up")
        }
        defer { sqlite3_close(handle) }
        sqlite3_busy_timeout(handle, 10_000)
        try copy(from: handle, to: destination)
    }

    /// Copies the whole database into a new file at `destination` with SQLite's online backup, so
    /// writers may go on while it runs and the copy is consistent.
    package func backup(to destination: String) throws(DatabaseError) {
        try Self.copy(from: handle, to: destination)
    }

    private static func copy(from handle: OpaquePointer?, to destination: String) throws(DatabaseError) {
        var target: OpaquePointer?
        guard sqlite3_open_v2(destination, &target, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK,
            let target
        else {
            sqlite3_close(target)
            throw DatabaseError(.unavailable, "cannot create the backup file \(destination)")
        }
        defer { sqlite3_close(target) }
        guard let backup = sqlite3_backup_init(target, "main", handle, "main") else {
            throw DatabaseError(.query, "starting the backup: \(String(cString: sqlite3_errmsg(target)))")
        }
        var status: Int32
        repeat {
            status = sqlite3_backup_step(backup, 256)
            if status == SQLITE_BUSY || status == SQLITE_LOCKED { sqlite3_sleep(20) }
        } while status == SQLITE_OK || status == SQLITE_BUSY || status == SQLITE_LOCKED
        sqlite3_backup_finish(backup)
        guard status == SQLITE_DONE else {
            throw DatabaseError(.query, "copying the store: \(String(cString: sqlite3_errmsg(target)))")
        }
    }
}
