import CLibPQ
package import Database
import Foundation

/// A connection to PostgreSQL through libpq. Every statement is sent with `PQexecParams`, so
/// values never become part of the SQL text.
package final class PostgresConnection: SQLConnection {
    package let dialect = SQLDialect.postgres
    private var handle: OpaquePointer?
    private let shownURL: String
    /// When a broken connection may next try to reconnect, and the pause after that one fails:
    /// doubling from half a second to ten, so a store that is down is not hammered by every request.
    private var nextReconnect: ContinuousClock.Instant?
    private var reconnectPause: Duration = .milliseconds(500)

    /// Connects to `url` (a `postgres://` URL; libpq reads TLS settings such as `sslmode` from it).
    /// `shownURL` is the URL with any password removed, for messages.
    package init(url: String, shownURL: String, connectTimeoutSeconds: Int = 10) throws(DatabaseError) {
        var connectionURL = url
        if !url.contains("connect_timeout=") {
            connectionURL += (url.contains("?") ? "&" : "?") + "connect_timeout=\(connectTimeoutSeconds)"
        }
        let connection = PQconnectdb(connectionURL)
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            let reason = connection.map { Self.firstLine(String(cString: PQerrorMessage($0))) } ?? "out of memory"
            PQfinish(connection)
            throw DatabaseError(.unavailable, "cannot connect to the PostgreSQL store \(shownURL): \(reason)")
        }
        handle = connection
        self.shownURL = shownURL
        // NOTICEs ("relation already exists, skipping") would otherwise go to stderr.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
    }

    deinit { close() }

    package func restoreIfBroken() throws(DatabaseError) {
        guard let handle else { throw DatabaseError(.unavailable, "the connection is closed") }
        guard PQstatus(handle) != CONNECTION_OK else { return }
        let now = ContinuousClock.now
        if let nextReconnect, now < nextReconnect {
            throw DatabaseError(.unavailable, "the PostgreSQL store \(shownURL) is unreachable; trying again shortly")
        }
        PQreset(handle)
        guard PQstatus(handle) == CONNECTION_OK else {
            nextReconnect = now + reconnectPause
            reconnectPause = min(reconnectPause * 2, .seconds(10))
            throw DatabaseError(
                .unavailable,
                "cannot reconnect to the PostgreSQL store \(shownURL): \(Self.firstLine(String(cString: PQerrorMessage(handle))))"
            )
        }
        nextReconnect = nil
        reconnectPause = .milliseconds(500)
    }

    package func close() {
        if let handle { PQfinish(handle) }
        handle = nil
    }

    /// libpq messages end in a newline and sometimes repeat per address tried; the first line says it.
    private static func firstLine(_ message: String) -> String {
        let lines = message.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
            !$0.isEmpty
        }
        guard var line = lines.first else { return "unknown error" }
        if line.hasPrefix("FATAL:") { line = line.dropFirst(6).trimmingCharacters(in: .whitespaces) }
        if line.hasPrefix("connection to server at"), let detail = lines.dropFirst().first {
            return "\(line) \(detail)"
        }
        return line
    }

    private func error(_ result: OpaquePointer?, _ sql: String) -> DatabaseError {
        let message: String
        if let result, let text = PQresultErrorMessage(result), text.pointee != 0 {
            message = String(cString: text)
        } else if let handle {
            message = String(cString: PQerrorMessage(handle))
        } else {
            message = "the connection is closed"
        }
        let code: DatabaseError.Code = PQstatus(handle) == CONNECTION_OK ? .query : .unavailable
        return DatabaseError(code, "running \(sql.prefix(80)): \(Self.firstLine(message))")
    }

    /// Runs `body` (one statement); when the connection turns out dead — PostgreSQL restarted while
    /// it sat in the pool, which libpq learns only when it next talks — it is reconnected and the
    /// statement sent once more. Only outside a transaction: there the statement never reached a
    /// server, while inside one the transaction is lost and its caller must see the error.
    private func reconnectingOnce<T>(_ body: () throws(DatabaseError) -> T) throws(DatabaseError) -> T {
        let idle = handle.map { PQtransactionStatus($0) == PQTRANS_IDLE } ?? false
        do {
            return try body()
        } catch {
            guard idle, error.code == .unavailable, let handle, PQstatus(handle) == CONNECTION_BAD else { throw error }
            try restoreIfBroken()
            return try body()
        }
    }

    @discardableResult
    package func execute(_ sql: String, _ parameters: [SQLValue]) throws(DatabaseError) -> [SQLRow] {
        try reconnectingOnce { () throws(DatabaseError) -> [SQLRow] in try executeOnce(sql, parameters) }
    }

    private func executeOnce(_ sql: String, _ parameters: [SQLValue]) throws(DatabaseError) -> [SQLRow] {
        let texts: [UnsafeMutablePointer<CChar>?] = parameters.map { value in value.text.flatMap { strdup($0) } }
        defer { texts.forEach { free($0) } }
        let result = texts.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { pointers in
                PQexecParams(handle, sql, Int32(parameters.count), nil, pointers.baseAddress, nil, nil, 0)
            }
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK:
            return []
        case PGRES_TUPLES_OK:
            let rowCount = PQntuples(result)
            let columnCount = PQnfields(result)
            var rows: [SQLRow] = []
            rows.reserveCapacity(Int(rowCount))
            for row in 0..<rowCount {
                var values: [SQLValue] = []
                values.reserveCapacity(Int(columnCount))
                for column in 0..<columnCount {
                    if PQgetisnull(result, row, column) == 1 {
                        values.append(.null)
                    } else {
                        let text = String(cString: PQgetvalue(result, row, column))
                        // int8 (20), int4 (23), int2 (21) come back as integers, as SQLite gives them.
                        switch PQftype(result, column) {
                        case 20, 21, 23: values.append(Int64(text).map(SQLValue.integer) ?? .text(text))
                        // float4 (700), float8 (701), numeric (1700) come back as doubles.
                        case 700, 701, 1700: values.append(Double(text).map(SQLValue.real) ?? .text(text))
                        default: values.append(.text(text))
                        }
                    }
                }
                rows.append(SQLRow(values: values))
            }
            return rows
        default:
            throw error(result, sql)
        }
    }

    package func executeScript(_ sql: String) throws(DatabaseError) {
        try reconnectingOnce { () throws(DatabaseError) in try executeScriptOnce(sql) }
    }

    private func executeScriptOnce(_ sql: String) throws(DatabaseError) {
        let result = PQexec(handle, sql)
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else { throw error(result, sql) }
    }
}
